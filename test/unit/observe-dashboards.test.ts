import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { loadMetrics } from "../../src/observe/metrics.ts";
import {
  ALERTS,
  DASHBOARD,
  DOCS,
  dashboardExprs,
  metricNamesIn,
  referencedMetricNames,
  seriesNames,
} from "./observe-dashboard-names.ts";

const { enableProcessMetrics, registry } = await loadMetrics();

function exportedSeries(): Set<string> {
  enableProcessMetrics();
  const names = new Set<string>();
  for (const f of registry.getMetricsAsArray()) {
    const m = f as unknown as { name: string; constructor: { name: string } };
    for (const n of seriesNames(m.name, m.constructor.name.toLowerCase())) names.add(n);
  }
  return names;
}

describe("dashboards", () => {
  it("extracts metric names from PromQL, skipping functions, labels, ranges and variables", () => {
    assert.deepEqual(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y",z=~"$ns"}[$__rate_interval]))) > 30 and on (pod) b offset 5m',
      ),
      ["a_bucket", "b"],
    );
    assert.deepEqual(metricNamesIn('time() - max by (source) (c{source="queue"})'), ["c"]);
  });

  it("the Grafana dashboard is valid JSON with unique panel ids and a query per panel", () => {
    const dash = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      uid: string;
      panels: { id: number; type: string; targets?: unknown[] }[];
    };
    assert.ok(dash.uid);
    const ids = dash.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of dash.panels.filter((p) => p.type !== "row")) assert.ok(p.targets?.length);
    assert.ok(dashboardExprs().length > 10);
  });

  it("every metric the dashboard and alert rules use is exported by nthd", () => {
    const referenced = referencedMetricNames();
    assert.ok(referenced.size > 15, "found the referenced metrics");
    const exported = exportedSeries();
    const missing = [...referenced].filter((n) => !exported.has(n));
    assert.deepEqual(missing, [], `not exported: ${missing.join(", ")}`);
  });

  it("every alert has a severity and a runbook section that exists in docs/observability.md", () => {
    const rules = readFileSync(ALERTS, "utf8");
    const docs = readFileSync(DOCS, "utf8");
    const anchors = new Set(
      [...docs.matchAll(/^#+\s+(.+)$/gm)].map((m) =>
        (m[1] as string)
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1] as string);
    assert.ok(alerts.length >= 8);
    const blocks = rules.split(/^\s*- alert: /m).slice(1);
    for (const [i, block] of blocks.entries()) {
      const name = alerts[i] as string;
      assert.match(block, /severity: (critical|warning|info)/, `${name} has a severity`);
      const anchor = /runbook: "docs\/observability\.md#([\w-]+)"/.exec(block)?.[1];
      assert.equal(anchor, name.toLowerCase(), `${name} links its runbook section`);
      assert.ok(anchors.has(anchor), `docs/observability.md has a section for ${name}`);
    }
  });
});
