/**
 * A small YAML emitter for the plain data the renderers build (maps,
 * sequences, strings, numbers, booleans). Strings are written bare only when
 * they cannot be read back as anything but the same string; everything else
 * is double-quoted (JSON string syntax is valid YAML), so "1", "true", "no",
 * "$Latest" and "8:00" stay strings under YAML 1.1 and 1.2 readers alike.
 */

export type YamlValue =
  | string
  | number
  | boolean
  | null
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

const PLAIN = /^[A-Za-z][A-Za-z0-9_./-]*$/;
/** Words some YAML reader turns into a boolean or null. */
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null)$/i;

export function scalar(v: string | number | boolean | null): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new TypeError(`YAML: ${v} is not a finite number`);
    return String(v);
  }
  return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
}

function isCollection(
  v: YamlValue,
): v is readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined } {
  return typeof v === "object" && v !== null;
}

function entries(v: { readonly [key: string]: YamlValue | undefined }): [string, YamlValue][] {
  return Object.entries(v).filter((e): e is [string, YamlValue] => e[1] !== undefined);
}

function inline(v: YamlValue): string | undefined {
  if (!isCollection(v)) return scalar(v);
  if (Array.isArray(v)) return v.length === 0 ? "[]" : undefined;
  return entries(v as { readonly [key: string]: YamlValue | undefined }).length === 0
    ? "{}"
    : undefined;
}

function block(v: YamlValue, indent: number): string[] {
  const pad = " ".repeat(indent);
  const one = inline(v);
  if (one !== undefined) return [pad + one];
  if (Array.isArray(v)) {
    return (v as readonly YamlValue[]).flatMap((item) => {
      const lines = block(item, indent + 2);
      lines[0] = `${pad}- ${(lines[0] as string).slice(indent + 2)}`;
      return lines;
    });
  }
  return entries(v as { readonly [key: string]: YamlValue | undefined }).flatMap(([key, val]) => {
    const single = inline(val);
    return single !== undefined
      ? [`${pad}${scalar(key)}: ${single}`]
      : [`${pad}${scalar(key)}:`, ...block(val, indent + 2)];
  });
}

/** One YAML document. */
export function toYaml(value: YamlValue): string {
  return `${block(value, 0).join("\n")}\n`;
}

/** Several documents in one stream. */
export function toYamlStream(values: readonly YamlValue[]): string {
  return values.map(toYaml).join("---\n");
}
