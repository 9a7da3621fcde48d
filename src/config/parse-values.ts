import { z } from "zod";

// Raw values arrive as strings (flags and environment); these schemas turn a
// string into a typed value or fail with a message that says what is allowed.

const TRUE_WORDS = new Set(["1", "t", "true", "yes", "y", "on"]);
const FALSE_WORDS = new Set(["0", "f", "false", "no", "n", "off"]);

/** Booleans as Go's strconv.ParseBool accepts them (NTH's parser), plus yes/no/on/off. */
export const bool = z.string().transform((raw, ctx) => {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  ctx.addIssue({ code: "custom", message: "expected true or false" });
  return z.NEVER;
});

export function int(min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    const text = raw.trim();
    if (!/^[+-]?\d+$/.test(text)) {
      ctx.addIssue({ code: "custom", message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    const value = Number(text);
    if (value < min || value > max) {
      ctx.addIssue({ code: "custom", message: `expected a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return value;
  });
}

export function float(min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    const value = Number(raw.trim());
    if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
      ctx.addIssue({ code: "custom", message: `expected a number from ${min} to ${max}` });
      return z.NEVER;
    }
    return value;
  });
}

/** One of a fixed list, matched case-insensitively, returned in canonical spelling. */
export function oneOf<const T extends readonly string[]>(values: T) {
  return z.string().transform((raw, ctx): T[number] => {
    const found = values.find((v) => v.toLowerCase() === raw.trim().toLowerCase());
    if (found === undefined) {
      ctx.addIssue({ code: "custom", message: `expected one of ${values.join(", ")}` });
      return z.NEVER;
    }
    return found;
  });
}

export const text = z.string();

export const url = z.string().transform((raw, ctx) => {
  if (raw === "") return "";
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("scheme");
    return raw;
  } catch {
    ctx.addIssue({ code: "custom", message: "expected an http:// or https:// URL" });
    return z.NEVER;
  }
});

/** A JSON object of string values, e.g. webhook headers. */
export const jsonStringMap = z.string().transform((raw, ctx) => {
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.every(([, v]) => typeof v === "string")) {
        return Object.fromEntries(entries) as Record<string, string>;
      }
    }
  } catch {
    // fall through to the issue below
  }
  ctx.addIssue({ code: "custom", message: 'expected a JSON object of strings, e.g. {"k":"v"}' });
  return z.NEVER;
});

/** `k=v,k2=v2` pairs (NTH's Kubernetes Event annotations format). */
export const keyValueList = z.string().transform((raw, ctx) => {
  const result: Record<string, string> = {};
  if (raw.trim() === "") return result;
  for (const pair of raw.split(",")) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at).trim();
    if (at <= 0 || key === "") {
      ctx.addIssue({ code: "custom", message: `expected k=v,k2=v2; "${pair}" has no key=value` });
      return z.NEVER;
    }
    result[key] = pair.slice(at + 1).trim();
  }
  return result;
});
