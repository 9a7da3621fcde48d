import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { listenersFromConfig } from "../../src/observe/server.ts";

const base = {
  enablePrometheusServer: false,
  prometheusServerPort: 9092,
  enableProbesServer: false,
  probesServerPort: 8080,
};

describe("listenersFromConfig", () => {
  it("plans nothing when both servers are off", () => {
    assert.deepEqual(listenersFromConfig(base), []);
  });
  it("plans NTH's two ports when both are on", () => {
    assert.deepEqual(
      listenersFromConfig({ ...base, enablePrometheusServer: true, enableProbesServer: true }),
      [
        { port: 9092, metrics: true, probes: false },
        { port: 8080, metrics: false, probes: true },
      ],
    );
  });
  it("shares one listener when the ports are equal", () => {
    assert.deepEqual(
      listenersFromConfig({
        ...base,
        enablePrometheusServer: true,
        enableProbesServer: true,
        probesServerPort: 9092,
      }),
      [{ port: 9092, metrics: true, probes: true }],
    );
  });
  it("plans probes alone", () => {
    assert.deepEqual(listenersFromConfig({ ...base, enableProbesServer: true }), [
      { port: 8080, metrics: false, probes: true },
    ]);
  });
});
