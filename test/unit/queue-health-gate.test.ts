import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NthdError } from "../../src/errors.ts";
import {
  afterFailure,
  afterSuccess,
  failing,
  HOLD_RETRY_CAP_MS,
  holdRetryDelayMs,
  isAwsOutage,
  kubeOutage,
  mayHold,
  mayReceive,
  OPEN_GATE,
  QUIET_REOPEN_MS,
  reopenAtMs,
} from "../../src/sources/queue/health-gate.ts";

describe("health gate", () => {
  test("receiving stops while any system is down and resumes when all answer", () => {
    let s = OPEN_GATE;
    assert.equal(mayReceive(s, 0), true);
    s = afterFailure(s, "kube", 1000);
    assert.equal(mayReceive(s, 1000), false);
    s = afterFailure(s, "aws", 2000);
    assert.deepEqual(failing(s), ["kube", "aws"]);
    s = afterSuccess(s, "kube");
    assert.equal(mayReceive(s, 2000), false, "EC2 still down");
    s = afterSuccess(s, "aws");
    assert.equal(mayReceive(s, 2000), true);
  });

  test("the outage keeps its start; each failure moves the quiet reopening later", () => {
    let s = afterFailure(OPEN_GATE, "kube", 1000);
    s = afterFailure(s, "kube", 5000);
    assert.equal(s.failingSince.kube, 1000);
    assert.equal(reopenAtMs(s), 5000 + QUIET_REOPEN_MS);
    assert.equal(afterSuccess(OPEN_GATE, "kube"), OPEN_GATE);
  });

  test("a system not seen failing for a while lets receiving resume, so something tries it again", () => {
    const s = afterFailure(OPEN_GATE, "aws", 1000);
    assert.equal(mayReceive(s, 1000 + QUIET_REOPEN_MS - 1), false);
    assert.equal(mayReceive(s, 1000 + QUIET_REOPEN_MS), true);
  });
});

describe("which failures are outages", () => {
  const kube = (kind: string) =>
    new NthdError("KUBE_API", `patching node n1: ${kind}`, { context: { kind } });

  test("Kubernetes: no answer, 5xx and 429 are; refusals of the request are not", () => {
    for (const kind of ["network", "server", "too-many-requests"])
      assert.equal(kubeOutage(kube(kind)), true, kind);
    for (const kind of ["forbidden", "invalid", "not-found", "conflict", "other"])
      assert.equal(kubeOutage(kube(kind)), false, kind);
    assert.equal(kubeOutage(new NthdError("KUBE_NODE_NOT_FOUND", "gone")), false);
    assert.equal(
      kubeOutage(new Error("ECONNREFUSED")),
      false,
      "only the engine's classified errors",
    );
  });

  const sdkError = (name: string, status?: number, fault?: string) =>
    Object.assign(new Error(name), {
      name,
      ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}),
      ...(fault !== undefined ? { $fault: fault } : {}),
    });

  test("AWS: throttling, 5xx and network failures are; validation and permissions are not", () => {
    assert.equal(isAwsOutage(sdkError("RequestLimitExceeded", 503)), true);
    assert.equal(
      isAwsOutage(sdkError("ThrottlingException", 400, "client")),
      true,
      "throttling by name",
    );
    assert.equal(isAwsOutage(sdkError("InternalError", 500, "server")), true);
    assert.equal(isAwsOutage(sdkError("Whatever", 502)), true);
    assert.equal(isAwsOutage(sdkError("TimeoutError")), true, "an attempt that timed out");
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    assert.equal(isAwsOutage(refused), true);
    assert.equal(isAwsOutage(sdkError("ValidationError", 400, "client")), false);
    assert.equal(isAwsOutage(sdkError("AccessDenied", 403, "client")), false);
    const wrapped = new NthdError("AWS_API", "completing", {
      cause: sdkError("InternalFailure", 500),
    });
    assert.equal(isAwsOutage(wrapped), true, "wrapped errors are unwrapped");
    const permission = new NthdError("AWS_PERMISSION", "denied", {
      cause: sdkError("AccessDenied", 403),
    });
    assert.equal(isAwsOutage(permission), false);
    assert.equal(isAwsOutage("text"), false);
  });
});

describe("holding a message", () => {
  test("retries back off from about 1 s to 30 s, with jitter", () => {
    assert.equal(holdRetryDelayMs(1, undefined, 0), 500);
    assert.equal(holdRetryDelayMs(1, undefined, 0.999), 1000);
    assert.equal(holdRetryDelayMs(3, undefined, 0), 2000);
    assert.equal(holdRetryDelayMs(20, undefined, 0), HOLD_RETRY_CAP_MS / 2);
    assert.ok(holdRetryDelayMs(20, undefined, 0.9999) > HOLD_RETRY_CAP_MS - 10);
    for (let attempt = 1; attempt < 30; attempt++) {
      const d = holdRetryDelayMs(attempt, undefined, Math.random());
      assert.ok(d >= 500 && d <= HOLD_RETRY_CAP_MS, `${attempt}: ${d}`);
    }
  });

  test("before the deadline a retry comes within half the time left (at least 1 s)", () => {
    assert.ok(holdRetryDelayMs(10, 20_000, 0.999) <= 10_000);
    assert.ok(holdRetryDelayMs(10, 1_000, 0.999) <= 1_000);
    assert.equal(
      holdRetryDelayMs(10, -5_000, 0),
      HOLD_RETRY_CAP_MS / 2,
      "deadline passed: plain back-off",
    );
  });

  test("a message is held up to queue-hold-max-seconds; 0 never holds", () => {
    assert.equal(mayHold(0, 3_599_999, 3_600_000), true);
    assert.equal(mayHold(0, 3_600_000, 3_600_000), false);
    assert.equal(mayHold(0, 0, 0), false);
  });
});
