// Markdown tables for stdout and docs/benchmarks.md.

export type Cell = string | number | undefined | null;

/** Formats a number for a table: fixed decimals, "n/a" for missing or NaN. */
export function fmt(value: number | undefined | null, decimals = 0, unit = ""): string {
  if (value === undefined || value === null || Number.isNaN(value)) return "n/a";
  return `${value.toFixed(decimals)}${unit}`;
}

export const ms = (value: number | undefined | null): string => fmt(value, 0, " ms");
export const seconds = (valueMs: number | undefined | null): string =>
  valueMs === undefined || valueMs === null ? "n/a" : fmt(valueMs / 1000, 2, " s");
export const mib = (bytes: number | undefined | null): string =>
  bytes === undefined || bytes === null ? "n/a" : fmt(bytes / 1024 / 1024, 1, " MiB");
export const pct = (value: number | undefined | null): string => fmt(value, 1, " %");

/** A GitHub-flavoured Markdown table; pipes inside cells are escaped. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  const text = (c: Cell) => (c === undefined || c === null ? "" : String(c)).replaceAll("|", "\\|");
  const body = rows.map((r) => headers.map((_, i) => text(r[i])));
  const widths = headers.map((h, i) =>
    Math.max(h.length, 3, ...body.map((r) => r[i]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(headers),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...body.map(line),
  ].join("\n");
}
