// Raw values arrive as strings (flags and environment); these parsers turn a
// string into a typed value or say what is allowed. Plain functions, not a
// schema library: every setting is one string in, one value out, and this
// runs at every start of a process that lives on every node.
//
// Each parser also describes what it accepts (`accepts`), and `--help` and
// docs/configuration.md show that description, so the documented range is
// the range the parser enforces.

import { isIP } from "node:net";

export type ParsedValue<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

/** Parses one raw setting value; never throws. */
export interface ValueParser<T> {
  (raw: string): ParsedValue<T>;
  /** What it accepts, for `--help` and the docs: "integer 1..43200", "true|false". */
  readonly accepts: string;
}

const ok = <T>(value: T): ParsedValue<T> => ({ ok: true, value });
const bad = (message: string): ParsedValue<never> => ({ ok: false, message });

function parser<T>(accepts: string, parse: (raw: string) => ParsedValue<T>): ValueParser<T> {
  return Object.assign(parse, { accepts });
}

const TRUE_WORDS = new Set(["1", "t", "true", "yes", "y", "on"]);
const FALSE_WORDS = new Set(["0", "f", "false", "no", "n", "off"]);

/** Booleans as Go's strconv.ParseBool accepts them (NTH's parser), plus yes/no/on/off. */
export const bool: ValueParser<boolean> = parser("true|false", (raw) => {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad("expected true or false");
});

function wholeNumber(raw: string): number | undefined {
  const text = raw.trim();
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

export function int(min: number, max: number): ValueParser<number> {
  const message = `expected a whole number from ${min} to ${max}`;
  return parser(`integer ${min}..${max}`, (raw) => {
    const value = wholeNumber(raw);
    return value === undefined || value < min || value > max ? bad(message) : ok(value);
  });
}

/**
 * A whole number in min..max, or one sentinel outside it (NTH's -1 for
 * "derive it"), e.g. `intOr(-1, 30, 3600)`.
 */
export function intOr(sentinel: number, min: number, max: number): ValueParser<number> {
  const message = `expected ${sentinel} or a whole number from ${min} to ${max}`;
  return parser(`${sentinel} or integer ${min}..${max}`, (raw) => {
    const value = wholeNumber(raw);
    if (value === sentinel) return ok(value);
    return value === undefined || value < min || value > max ? bad(message) : ok(value);
  });
}

/**
 * A whole number in 0..max, where any negative number means one thing (NTH:
 * "negative: the pod's own grace period") and is returned as `negative`.
 */
export function intOrNegative(negative: number, max: number): ValueParser<number> {
  const message = `expected a negative number or a whole number from 0 to ${max}`;
  return parser(`negative or integer 0..${max}`, (raw) => {
    const value = wholeNumber(raw);
    if (value === undefined || value > max) return bad(message);
    return ok(value < 0 ? negative : value);
  });
}

/**
 * A keyword (like "auto"), a sentinel (NTH's -1), or a whole number in
 * min..max: three meanings one variable has to carry.
 */
export function intOrWord<const W extends string>(
  word: W,
  sentinel: number,
  min: number,
  max: number,
): ValueParser<number | W> {
  const message = `expected ${word}, ${sentinel} or a whole number from ${min} to ${max}`;
  return parser<number | W>(`${word}, ${sentinel} or integer ${min}..${max}`, (raw) => {
    if (raw.trim().toLowerCase() === word) return ok<number | W>(word);
    const value = wholeNumber(raw);
    if (value === sentinel) return ok(value);
    return value === undefined || value < min || value > max ? bad(message) : ok(value);
  });
}

export function float(min: number, max: number): ValueParser<number> {
  const message = `expected a number from ${min} to ${max}`;
  return parser(`number ${min}..${max}`, (raw) => {
    const value = Number(raw.trim());
    if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
      return bad(message);
    }
    return ok(value);
  });
}

/** One of a fixed list, matched case-insensitively, returned in canonical spelling. */
export function oneOf<const T extends readonly string[]>(values: T): ValueParser<T[number]> {
  return parser(values.join("|"), (raw) => {
    const found = values.find((v) => v.toLowerCase() === raw.trim().toLowerCase());
    return found === undefined ? bad(`expected one of ${values.join(", ")}`) : ok(found);
  });
}

/** Any text; the setting's `hint` says what it should be (a path, a host, ...). */
export const text: ValueParser<string> = parser("text", (raw) => ok(raw));

/** An IPv4 or IPv6 address (no host names: a listener binds to an address of this host). */
export const ipAddress: ValueParser<string> = parser("IP address", (raw) => {
  const value = raw.trim();
  return isIP(value) === 0 ? bad("expected an IPv4 or IPv6 address") : ok(value);
});

/**
 * A proxy URL: http(s), or tcp:// as NTH's documentation writes it
 * (tcp://proxy:3128), which is an HTTP proxy reached over plain TCP and is
 * returned as http://.
 */
export const proxyUrl: ValueParser<string> = parser("http(s):// or tcp:// URL", (raw) => {
  if (raw === "") return ok("");
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return ok(raw);
    if (parsed.protocol === "tcp:" && parsed.host !== "") return ok(`http://${raw.slice(6)}`);
  } catch {
    // not a URL at all: same answer as a wrong scheme
  }
  return bad("expected an http://, https:// or tcp:// proxy URL");
});

export const url: ValueParser<string> = parser("http(s) URL", (raw) => {
  if (raw === "") return ok("");
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return ok(raw);
  } catch {
    // not a URL at all: same answer as a wrong scheme
  }
  return bad("expected an http:// or https:// URL");
});

/** A JSON object of string values, e.g. webhook headers. */
export const jsonStringMap: ValueParser<Record<string, string>> = parser(
  "JSON object of strings",
  (raw) => {
    try {
      const value: unknown = JSON.parse(raw);
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.every(([, v]) => typeof v === "string")) {
          return ok(Object.fromEntries(entries) as Record<string, string>);
        }
      }
    } catch {
      // fall through to the message below
    }
    return bad('expected a JSON object of strings, e.g. {"k":"v"}');
  },
);

/** `k=v,k2=v2` pairs (NTH's Kubernetes Event annotations format). */
export const keyValueList: ValueParser<Record<string, string>> = parser("k=v,k2=v2", (raw) => {
  const result: Record<string, string> = {};
  if (raw.trim() === "") return ok(result);
  for (const pair of raw.split(",")) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at).trim();
    if (at <= 0 || key === "") return bad(`expected k=v,k2=v2; "${pair}" has no key=value`);
    result[key] = pair.slice(at + 1).trim();
  }
  return ok(result);
});
