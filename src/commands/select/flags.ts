/**
 * Typed values of `nthd select`'s options (read by the shared parser in
 * src/config/argv.ts), each throwing ArgError naming the option. Which
 * options exist and what they mean lives in options.ts.
 */
import type { Range } from "./options.ts";

export class ArgError extends Error {}

export function bool(values: Map<string, string>, flag: string): boolean | undefined {
  const v = values.get(flag);
  if (v === undefined) return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw new ArgError(`--${flag}=${JSON.stringify(v)}: expected true or false`);
}

export function int(
  values: Map<string, string>,
  flag: string,
  min: number,
  max = 1e9,
): number | undefined {
  const v = values.get(flag);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ArgError(
      `--${flag} ${JSON.stringify(v)}: expected a whole number from ${min} to ${max}`,
    );
  }
  return Number(v);
}

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  mi: 1,
  mib: 1,
  m: 1,
  mb: 1,
  gi: 1024,
  gib: 1024,
  g: 1024,
  gb: 1024,
};

/** "4096" (MiB, as kOps), "8GiB", "0.5gb", "512Mi" → MiB. */
export function parseMemoryMiB(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = MEMORY_UNITS[(m[2] as string).toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

export function memory(values: Map<string, string>, flag: string): number | undefined {
  const v = values.get(flag);
  if (v === undefined) return undefined;
  const mib = parseMemoryMiB(v);
  if (mib === undefined || mib <= 0) {
    throw new ArgError(
      `--${flag} ${JSON.stringify(v)}: expected MiB (4096) or a size with a unit (8GiB)`,
    );
  }
  return mib;
}

/** "1:4" → 4 (GiB per vCPU); "2:8" is the same ratio. */
export function parseRatio(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (m === null) return undefined;
  const cpu = Number(m[1]);
  const mem = Number(m[2]);
  return cpu > 0 && mem > 0 ? mem / cpu : undefined;
}

export function regex(values: Map<string, string>, flag: string): RegExp | undefined {
  const v = values.get(flag);
  if (v === undefined) return undefined;
  try {
    return new RegExp(v);
  } catch (err) {
    throw new ArgError(
      `--${flag} ${JSON.stringify(v)}: not a regular expression (${(err as Error).message})`,
    );
  }
}

export function oneOf<T extends string>(
  values: Map<string, string>,
  flag: string,
  allowed: readonly T[],
  aliases: Readonly<Record<string, T>> = {},
): T | undefined {
  const v = values.get(flag);
  if (v === undefined) return undefined;
  const found = allowed.find((a) => a === v) ?? aliases[v];
  if (found === undefined) {
    throw new ArgError(`--${flag} ${JSON.stringify(v)}: expected one of ${allowed.join(", ")}`);
  }
  return found;
}

/** --x gives min=max=x; --x-min/--x-max bound one side; a contradiction is an error. */
export function range(
  exact: number | undefined,
  min: number | undefined,
  max: number | undefined,
  flag: string,
): Range {
  const lo = min ?? exact;
  const hi = max ?? exact;
  if (lo !== undefined && hi !== undefined && lo > hi) {
    throw new ArgError(`--${flag}: minimum ${lo} is above maximum ${hi}`);
  }
  return { min: lo, max: hi };
}
