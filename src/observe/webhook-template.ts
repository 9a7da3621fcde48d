import { NthdError } from "../errors.ts";

/**
 * Webhook body templates in the subset of Go text/template syntax that
 * aws-node-termination-handler users write: `{{ .Field }}` (also `{{.Field}}`,
 * trim markers `{{- .Field -}}` and comments `{{/* … *\/}}`). Pipelines,
 * functions, `if`/`range`/`with` are rejected at start-up rather than sent
 * half-rendered. When the template is JSON, substituted values are escaped so
 * a quote in a description cannot break the body (NTH did not escape).
 */

/** NTH's documented fields, plus nthd's own (marked). */
export const TEMPLATE_FIELDS = [
  "EventID",
  "Kind",
  "Monitor",
  "Description",
  "State",
  "AutoScalingGroupName",
  "NodeName",
  "NodeLabels",
  "Pods",
  "InstanceID",
  "ProviderID",
  "InstanceType",
  "IsManaged",
  "StartTime",
  "EndTime",
  "AccountId",
  "InstanceLifeCycle",
  "PublicHostname",
  "PublicIP",
  "LocalHostname",
  "LocalIP",
  "AvailabilityZone",
  "Region",
  // nthd only: what nthd did and how it ended.
  "Action",
  "Outcome",
  "OutcomeReason",
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export type FieldValue =
  | string
  | boolean
  | Date
  | readonly string[]
  | Readonly<Record<string, string>>
  | undefined;
export type TemplateData = Partial<Record<TemplateField, FieldValue>>;

type Part = { literal: string } | { field: TemplateField; inString: boolean };

export interface CompiledTemplate {
  /** True when the template is a JSON document; values are then JSON-escaped. */
  readonly json: boolean;
  readonly fields: readonly TemplateField[];
  render(data: TemplateData): string;
}

const FIELD_SET: ReadonlySet<string> = new Set(TEMPLATE_FIELDS);
const ACTION = /\{\{(-\s)?\s*([\s\S]*?)\s*(\s-)?\}\}/g;

/** Parses a template once at start-up; throws CONFIG_INVALID naming what is unsupported. */
export function compileTemplate(source: string, origin = "webhook template"): CompiledTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(ACTION)) {
    let literal = source.slice(last, match.index);
    if (match[1] !== undefined) literal = literal.trimEnd();
    pushLiteral(parts, literal, origin);
    last = match.index + match[0].length;
    if (match[3] !== undefined) {
      const rest = source.slice(last);
      last += rest.length - rest.trimStart().length;
    }
    const action = match[2] ?? "";
    if (action.startsWith("/*") && action.endsWith("*/")) continue;
    const name = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(action)?.[1];
    if (name === undefined) {
      throw invalid(
        origin,
        `unsupported action {{ ${action} }}: only {{ .Field }} substitution is supported`,
      );
    }
    if (!FIELD_SET.has(name)) {
      throw invalid(origin, `unknown field .${name}; known fields: ${TEMPLATE_FIELDS.join(", ")}`);
    }
    parts.push({ field: name as TemplateField, inString: false });
  }
  pushLiteral(parts, source.slice(last), origin);
  const json = markJsonStrings(parts);
  const fields = parts.flatMap((p) => ("field" in p ? [p.field] : []));
  return {
    json,
    fields,
    render: (data) =>
      parts
        .map((p) => {
          if ("literal" in p) return p.literal;
          const value = data[p.field];
          if (!json) return goText(value);
          return p.inString ? JSON.stringify(goText(value)).slice(1, -1) : jsonValue(value);
        })
        .join(""),
  };
}

function pushLiteral(parts: Part[], literal: string, origin: string): void {
  if (literal.includes("{{"))
    throw invalid(
      origin,
      `unclosed "{{" near ${JSON.stringify(literal.slice(literal.indexOf("{{"), literal.indexOf("{{") + 20))}`,
    );
  if (literal !== "") parts.push({ literal });
}

function invalid(origin: string, why: string): NthdError {
  return new NthdError("CONFIG_INVALID", `invalid ${origin}: ${why}`);
}

/**
 * Decides whether the template is a JSON object (webhook bodies are; a text
 * template starting with "[" stays text) and, if so, which placeholders sit
 * inside a JSON string: walks the literal text tracking string state, then
 * checks that the document parses with stand-in values.
 */
function markJsonStrings(parts: Part[]): boolean {
  const first = parts.find((p) => "literal" in p);
  if (first === undefined || !/^\s*\{/.test((first as { literal: string }).literal)) return false;
  let inString = false;
  let escaped = false;
  let probe = "";
  for (const part of parts) {
    if ("field" in part) {
      part.inString = inString;
      probe += inString ? "x" : "null";
      continue;
    }
    for (const ch of part.literal) {
      if (escaped) escaped = false;
      else if (inString && ch === "\\") escaped = true;
      else if (ch === '"') inString = !inString;
    }
    probe += part.literal;
  }
  try {
    JSON.parse(probe);
    return true;
  } catch {
    return false;
  }
}

/** How Go's text/template prints the value (fmt's %v), which NTH templates produced. */
export function goText(value: FieldValue): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  if (value instanceof Date) return goTime(value);
  if (Array.isArray(value)) return `[${value.join(" ")}]`;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${entries.map(([k, v]) => `${k}:${v}`).join(" ")}]`;
}

function jsonValue(value: FieldValue): string {
  if (value === undefined) return '""';
  if (value instanceof Date) return JSON.stringify(goTime(value));
  return JSON.stringify(value);
}

/** Go's time.Time String() in UTC: "2006-01-02 15:04:05.999 +0000 UTC". */
function goTime(date: Date): string {
  if (Number.isNaN(date.getTime())) return "";
  const iso = date.toISOString(); // 2006-01-02T15:04:05.999Z
  const ms = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === "" ? "" : `.${ms}`} +0000 UTC`;
}
