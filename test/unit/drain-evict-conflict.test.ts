/**
 * A 409 on an eviction is "gone" only when a fresh read of the pod says the
 * planned incarnation is gone; otherwise the eviction is retried until the
 * deadline. The decision table, then the eviction loop against an in-memory
 * stand-in for the API (no sockets).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evictPod } from "../../src/drain/evict.ts";
import { afterConflict } from "../../src/drain/evict-conflict.ts";
import { NthdError } from "../../src/errors.ts";
import { KubeApiError, kubeError } from "../../src/kube/api-error.ts";
import type { KubeClient } from "../../src/kube/client.ts";

describe("afterConflict", () => {
  const planned = { uid: "uid-a" };
  it("the pod is gone: gone", () => {
    assert.deepEqual(afterConflict(planned, { found: false }), { verdict: "gone" });
  });
  it("a new incarnation under the same name: gone", () => {
    assert.deepEqual(afterConflict(planned, { found: true, uid: "uid-b" }), { verdict: "gone" });
  });
  it("the planned pod is still there: retry", () => {
    assert.equal(afterConflict(planned, { found: true, uid: "uid-a" }).verdict, "retry");
  });
  it("planned without a uid and a pod of that name exists: retry", () => {
    assert.equal(afterConflict({}, { found: true, uid: "uid-x" }).verdict, "retry");
  });
  it("the read failed: retry, saying why", () => {
    const v = afterConflict(planned, { unknown: true, reason: "connection refused" });
    assert.equal(v.verdict, "retry");
    assert.match(v.verdict === "retry" ? v.reason : "", /connection refused/);
  });
});

/** An API that answers each eviction from `answers` in turn and each pod read from `pod()`. */
function fakeKube(opts: {
  answers: ("ok" | 409 | 429)[];
  pod: () => { uid: string } | undefined;
}): { kube: KubeClient; evictions: number; reads: number } {
  const state = { evictions: 0, reads: 0 };
  const kube = {
    async evictPod(namespace: string, name: string) {
      const answer = opts.answers[state.evictions++] ?? "ok";
      if (answer === "ok") return;
      throw kubeError(`evicting pod ${namespace}/${name}`, new KubeApiError(answer, {}));
    },
    async getPod() {
      state.reads++;
      const pod = opts.pod();
      return pod === undefined ? undefined : { metadata: { uid: pod.uid } };
    },
  } as unknown as KubeClient;
  return {
    kube,
    get evictions() {
      return state.evictions;
    },
    get reads() {
      return state.reads;
    },
  };
}

function evict(kube: KubeClient, deadlineMs = 5_000) {
  const deadline = new Date(Date.now() + deadlineMs);
  return evictPod({
    kube,
    pod: { namespace: "ns", name: "web-0", uid: "uid-a" },
    podGraceSeconds: 1,
    settings: { podTerminationGracePeriodSeconds: -1, deadlineSafetyMarginSeconds: 0 },
    deadline: () => deadline,
    clock: () => new Date(),
    signal: new AbortController().signal,
    backoff: { initialMs: 5, maxMs: 10 },
  });
}

describe("evictPod on 409", () => {
  it("a replaced pod is gone after one read", async () => {
    const f = fakeKube({ answers: [409], pod: () => ({ uid: "uid-b" }) });
    assert.deepEqual(await evict(f.kube), { status: "gone" });
    assert.equal(f.evictions, 1);
    assert.equal(f.reads, 1);
  });

  it("a pod still there is evicted on a later try", async () => {
    const f = fakeKube({ answers: [409, 409, "ok"], pod: () => ({ uid: "uid-a" }) });
    const r = await evict(f.kube);
    assert.equal(r.status, "evicted");
    assert.equal(f.evictions, 3);
    assert.equal(f.reads, 2);
  });

  it("a pod still there at the deadline fails, never reads as gone", async () => {
    const f = fakeKube({ answers: Array(1000).fill(409), pod: () => ({ uid: "uid-a" }) });
    const r = await evict(f.kube, 150);
    assert.equal(r.status, "failed");
    assert.match(r.status === "failed" ? r.message : "", /still there/);
  });

  it("a read that fails is retried, not taken as gone", async () => {
    let reads = 0;
    const f = fakeKube({ answers: [409, "ok"], pod: () => ({ uid: "uid-a" }) });
    const kube = {
      ...f.kube,
      evictPod: f.kube.evictPod,
      async getPod() {
        reads++;
        throw new NthdError("KUBE_API", "getting pod: network: connection refused");
      },
    } as unknown as KubeClient;
    assert.equal((await evict(kube)).status, "evicted");
    assert.equal(reads, 1);
  });
});
