// Raw values arrive as strings (flags and environment); these parsers turn a
// string into a typed value or say what is allowed. Plain functions, not a
// schema library: every setting is one string in, one value out, and this
// runs at every start of a process that lives on every node.

export type ParsedValue<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

/** Parses one raw setting value; never throws. */
export type ValueParser<T> = (raw: string) => ParsedValue<T>;

const ok = <T>(value: T): ParsedValue<T> => ({ ok: true, value });
const bad = (message: string): ParsedValue<never> => ({ ok: false, message });

const TRUE_WORDS = new Set(["1", "t", "true", "yes", "y", "on"]);
const FALSE_WORDS = new Set(["0", "f", "false", "no", "n", "off"]);

/** Booleans as Go's strconv.ParseBool accepts them (NTH's parser), plus yes/no/on/off. */
export const bool: ValueParser<boolean> = (raw) => {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad("expected true or false");
};

export function int(min: number, max: number): ValueParser<number> {
  const message = `expected a whole number from ${min} to ${max}`;
  return (raw) => {
    const text = raw.trim();
    if (!/^[+-]?\d+$/.test(text)) return bad(message);
    const value = Number(text);
    return value < min || value > max ? bad(message) : ok(value);
  };
}

export function float(min: number, max: number): ValueParser<number> {
  const message = `expected a number from ${min} to ${max}`;
  return (raw) => {
    const value = Number(raw.trim());
    if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
      return bad(message);
    }
    return ok(value);
  };
}

/** One of a fixed list, matched case-insensitively, returned in canonical spelling. */
export function oneOf<const T extends readonly string[]>(values: T): ValueParser<T[number]> {
  return (raw) => {
    const found = values.find((v) => v.toLowerCase() === raw.trim().toLowerCase());
    return found === undefined ? bad(`expected one of ${values.join(", ")}`) : ok(found);
  };
}

export const text: ValueParser<string> = (raw) => ok(raw);

export const url: ValueParser<string> = (raw) => {
  if (raw === "") return ok("");
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return ok(raw);
  } catch {
    // not a URL at all: same answer as a wrong scheme
  }
  return bad("expected an http:// or https:// URL");
};

/** A JSON object of string values, e.g. webhook headers. */
export const jsonStringMap: ValueParser<Record<string, string>> = (raw) => {
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
};

/** `k=v,k2=v2` pairs (NTH's Kubernetes Event annotations format). */
export const keyValueList: ValueParser<Record<string, string>> = (raw) => {
  const result: Record<string, string> = {};
  if (raw.trim() === "") return ok(result);
  for (const pair of raw.split(",")) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at).trim();
    if (at <= 0 || key === "") return bad(`expected k=v,k2=v2; "${pair}" has no key=value`);
    result[key] = pair.slice(at + 1).trim();
  }
  return ok(result);
};
