// A small SVG plot of latency distributions (empirical CDFs), one line per
// handler, so nthd and NTH can be compared at a glance without a plotting
// dependency.

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

export interface Series {
  readonly label: string;
  readonly valuesMs: readonly number[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `max`. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export function cdfSvg(title: string, series: readonly Series[], xLabel = "seconds"): string {
  const W = 640;
  const H = 400;
  const m = { l: 60, r: 20, t: 40, b: 50 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const allMax = Math.max(0, ...series.flatMap((s) => s.valuesMs)) / 1000;
  const xMax = niceMax(allMax);
  const x = (sec: number) => m.l + (sec / xMax) * pw;
  const y = (frac: number) => m.t + ph - frac * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const sec = (xMax * i) / 5;
    const frac = i / 5;
    parts.push(
      `<line x1="${x(sec)}" y1="${m.t}" x2="${x(sec)}" y2="${m.t + ph}" stroke="#eee"/>`,
      `<text x="${x(sec)}" y="${m.t + ph + 16}" text-anchor="middle">${Number(sec.toFixed(2))}</text>`,
      `<line x1="${m.l}" y1="${y(frac)}" x2="${m.l + pw}" y2="${y(frac)}" stroke="#eee"/>`,
      `<text x="${m.l - 6}" y="${y(frac) + 4}" text-anchor="end">${(frac * 100).toFixed(0)}%</text>`,
    );
  }
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`,
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const sorted = [...s.valuesMs].sort((a, b) => a - b);
    if (sorted.length > 0) {
      // Step function: the share of notices handled within each latency.
      let d = `M ${x(0)} ${y(0)}`;
      sorted.forEach((v, i) => {
        d += ` H ${x(v / 1000).toFixed(1)} V ${y((i + 1) / sorted.length).toFixed(1)}`;
      });
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    parts.push(
      // Legend bottom right, where CDF curves rarely are.
      `<rect x="${m.l + pw - 170}" y="${m.t + ph - 24 - k * 18}" width="12" height="12" fill="${color}"/>`,
      `<text x="${m.l + pw - 152}" y="${m.t + ph - 14 - k * 18}">${esc(`${s.label} (n=${sorted.length})`)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
