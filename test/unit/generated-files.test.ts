// Files that are copies or renderings of a single source must match it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { configurationReference } from "../../src/config/index.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

test("docs/configuration.md is generated from the current settings table", () => {
  assert.equal(
    read("docs/configuration.md"),
    configurationReference(),
    "run npm run docs:config and commit docs/configuration.md",
  );
});

test("the chart ships the same alert rules as dashboards/", () => {
  assert.equal(
    read("charts/nthd/files/prometheus-rules.yaml"),
    read("dashboards/nthd-alerts.yaml"),
    "copy dashboards/nthd-alerts.yaml to charts/nthd/files/prometheus-rules.yaml",
  );
});
