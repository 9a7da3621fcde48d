import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { instanceIdFromProviderId } from "../../src/aws-ids.ts";
import { classifyKubeError, KubeApiError, kubeError } from "../../src/kube/api-error.ts";
import { createRateLimiter } from "../../src/kube/rate-limit.ts";

describe("provider ids", () => {
  test("EC2 provider ids give the instance id; others give nothing", () => {
    assert.equal(
      instanceIdFromProviderId("aws:///us-east-1a/i-0123456789abcdef0"),
      "i-0123456789abcdef0",
    );
    assert.equal(instanceIdFromProviderId("aws://us-east-1a/i-0abc1234"), "i-0abc1234");
    // EC2 issues 8 or 17 hex digits only; anything else is not an instance.
    assert.equal(instanceIdFromProviderId("aws:///us-east-1a/i-0abc"), undefined);
    assert.equal(instanceIdFromProviderId("aws:///us-east-1a/fargate-ip-10-0-0-1"), undefined);
    assert.equal(instanceIdFromProviderId("kind://docker/kind/kind-control-plane"), undefined);
    assert.equal(instanceIdFromProviderId(undefined), undefined);
  });
});

describe("API error classification", () => {
  test("a PDB refusal is retryable and keeps the budget's explanation", () => {
    const body = {
      kind: "Status",
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: "TooManyRequests",
      details: {
        causes: [
          {
            reason: "DisruptionBudget",
            message: "The disruption budget web needs 2 healthy pods and has 2 currently",
          },
        ],
      },
      code: 429,
    };
    const info = classifyKubeError(new KubeApiError(429, body, { "retry-after": "3" }));
    assert.equal(info.kind, "too-many-requests");
    assert.equal(info.retryable, true);
    assert.match(info.message, /needs 2 healthy pods/);
    assert.equal(info.reason, "TooManyRequests");
    assert.equal(info.retryAfterSeconds, 3);
  });

  test("wrapped errors keep their classification; forbidden is not retryable", () => {
    const wrapped = kubeError(
      "evicting pod a/b",
      new KubeApiError(403, { message: "forbidden: no" }),
    );
    assert.equal(wrapped.code, "KUBE_API");
    assert.match(wrapped.message, /^evicting pod a\/b: HTTP 403: forbidden: no/);
    const info = classifyKubeError(wrapped);
    assert.equal(info.kind, "forbidden");
    assert.equal(info.retryable, false);
    assert.equal(classifyKubeError(new TypeError("fetch failed")).kind, "network");
    assert.equal(classifyKubeError(new KubeApiError(404, "")).kind, "not-found");
    assert.equal(classifyKubeError(new KubeApiError(422, "not json")).message, "not json");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    assert.equal(classifyKubeError(refused).kind, "network");
    assert.equal(classifyKubeError(new DOMException("timed out", "TimeoutError")).kind, "network");
    assert.equal(classifyKubeError(new Error("stop")).kind, "other");
  });
});

describe("rate limiter", () => {
  test("burst passes at once; then urgent waiters go before normal ones", async () => {
    const limiter = createRateLimiter({ qps: 200, burst: 2 });
    await limiter.acquire();
    await limiter.acquire();
    const order: string[] = [];
    const waits = [
      limiter.acquire("normal").then(() => order.push("normal-1")),
      limiter.acquire("normal").then(() => order.push("normal-2")),
      limiter.acquire("urgent").then(() => order.push("urgent")),
    ];
    assert.equal(limiter.waiting, 2);
    await Promise.all(waits);
    assert.deepEqual(order, ["urgent", "normal-1", "normal-2"]);
  });

  test("an aborted waiter leaves the queue and rejects", async () => {
    const limiter = createRateLimiter({ qps: 1, burst: 1 });
    await limiter.acquire();
    const ctl = new AbortController();
    const waiting = limiter.acquire("normal", ctl.signal);
    ctl.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    assert.equal(limiter.waiting, 0);
  });
});
