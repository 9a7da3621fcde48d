// Shared by the dashboard tests: which metric names the dashboard and alert
// rules reference, and which series names a registry or a scrape exports.
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
export const DASHBOARD = new URL("dashboards/nthd-grafana.json", root);
export const ALERTS = new URL("dashboards/nthd-alerts.yaml", root);
export const DOCS = new URL("docs/observability.md", root);

/** Series synthesised by Prometheus itself, not exported by nthd. */
const PROMETHEUS_SERIES = new Set(["up"]);
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "Inf", "NaN", "inf", "nan"]);

/** Metric names in one PromQL expression (identifiers that are not functions, keywords or labels). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\w+/g, " ");
  const names: string[] = [];
  for (const m of stripped.matchAll(
    /(?<![\w:.])[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[a-zA-Z0-9_:])/g,
  )) {
    if (!KEYWORDS.has(m[0]) && !/^\d/.test(m[0])) names.push(m[0]);
  }
  return names;
}

export function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: { targets?: { expr: string }[] }[];
  };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** `expr:` values of the rule file; the file keeps every expression on one line so this stays exact. */
export function alertExprs(): string[] {
  const text = readFileSync(ALERTS, "utf8");
  return [...text.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => (m[1] as string).trim());
}

/** Every metric the dashboard and alert rules reference, minus Prometheus' own series. */
export function referencedMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const expr of [...dashboardExprs(), ...alertExprs()]) {
    for (const name of metricNamesIn(expr)) if (!PROMETHEUS_SERIES.has(name)) names.add(name);
  }
  return names;
}

/** Series names a metric family produces (histograms add _bucket, _sum and _count). */
export function seriesNames(family: string, type: string): string[] {
  if (type === "histogram") return [`${family}_bucket`, `${family}_sum`, `${family}_count`];
  if (type === "summary") return [family, `${family}_sum`, `${family}_count`];
  return [family];
}

/** Series names listed by `# TYPE` lines of a Prometheus text exposition. */
export function seriesNamesInScrape(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    for (const n of seriesNames(m[1] as string, m[2] as string)) names.add(n);
  }
  return names;
}
