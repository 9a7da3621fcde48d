/**
 * Readiness of the API server from nthd's own requests, and when to probe:
 * pure functions over times in milliseconds.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KubeApiError } from "../../src/kube/api-error.ts";
import { ApiContact, isOutage } from "../../src/kube/contact.ts";
import { apiVerdict, nextProbeAt } from "../../src/observe/api-verdict.ts";

const W = { windowMs: 10_000 };
const P = { idleMs: 60_000, retryBaseMs: 5_000, retryMaxMs: 60_000 };
const state = (s: number | undefined, f: number | undefined) => ({
  lastSuccessAt: s,
  lastFailureAt: f,
  lastError: f === undefined ? undefined : "connect ECONNREFUSED",
});

describe("apiVerdict", () => {
  it("unready before any answer, saying so", () => {
    const v = apiVerdict(state(undefined, undefined), 0, W);
    assert.deepEqual(v, { healthy: false, reason: "no answer from the API server yet" });
  });
  it("ready after an answer and while idle, however long", () => {
    assert.equal(apiVerdict(state(1_000, undefined), 10_000_000, W).healthy, true);
  });
  it("a failure after a recent answer does not flap readiness (busy server, some timeouts)", () => {
    assert.equal(apiVerdict(state(100_000, 105_000), 108_000, W).healthy, true);
  });
  it("unready once failures stand and no answer came within the window", () => {
    const v = apiVerdict(state(100_000, 111_000), 111_000, W);
    assert.equal(v.healthy, false);
    assert.match(v.healthy ? "" : v.reason, /unreachable: connect ECONNREFUSED/);
  });
  it("an answer after the failures makes it ready again", () => {
    assert.equal(apiVerdict(state(120_000, 111_000), 200_000, W).healthy, true);
  });
});

describe("nextProbeAt", () => {
  const healthy = { healthy: true } as const;
  const unhealthy = { healthy: false, reason: "x" } as const;
  it("healthy: one probe after idleMs without any outcome", () => {
    const at = nextProbeAt(
      state(1_000, 500),
      healthy,
      { probeAt: undefined, failedProbes: 0 },
      P,
      0.5,
    );
    assert.equal(at, 61_000);
  });
  it("never probed and not healthy: at once", () => {
    const at = nextProbeAt(
      state(undefined, undefined),
      unhealthy,
      { probeAt: undefined, failedProbes: 0 },
      P,
      0.5,
    );
    assert.equal(at, -Infinity);
  });
  it("unhealthy: backs off from the last probe, doubling to the cap, with jitter", () => {
    const last = (failedProbes: number) => ({ probeAt: 0, failedProbes });
    const c = state(undefined, 0);
    assert.equal(nextProbeAt(c, unhealthy, last(1), P, 0), 2_500);
    assert.equal(nextProbeAt(c, unhealthy, last(1), P, 1), 5_000);
    assert.equal(nextProbeAt(c, unhealthy, last(2), P, 1), 10_000);
    assert.equal(nextProbeAt(c, unhealthy, last(10), P, 1), 60_000);
    assert.equal(nextProbeAt(c, unhealthy, last(10), P, 0), 30_000);
  });
});

describe("ApiContact", () => {
  it("records outages (no connection, 502/503/504), answers for other statuses, nothing else", () => {
    let now = 0;
    const c = new ApiContact(() => now);
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    now = 1;
    c.failed(refused);
    assert.equal(c.lastFailureAt, 1);
    now = 2;
    c.failed(new KubeApiError(503, { message: "etcd unavailable" }));
    assert.equal(c.lastFailureAt, 2);
    now = 3;
    c.failed(new KubeApiError(429, { message: "too many requests" }));
    assert.equal(c.lastSuccessAt, 3, "a 429 is an answer");
    now = 4;
    c.failed(new Error("some bug"));
    assert.equal(c.lastSuccessAt, 3);
    assert.equal(c.lastFailureAt, 2);
    assert.equal(isOutage(new KubeApiError(404, {})), false);
    assert.equal(isOutage(new DOMException("timed out", "TimeoutError")), true);
  });
});
