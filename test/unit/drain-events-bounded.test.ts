/**
 * Kubernetes Events wait in the background lane, and only so many at once:
 * beyond MAX_PENDING_EVENTS new ones are dropped (and logged), so a mass
 * interruption's one Event per evicted pod cannot pile up in memory.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { createDrainEvents, MAX_PENDING_EVENTS } from "../../src/drain/events.ts";
import type { KubeClient } from "../../src/kube/client.ts";

test("Events beyond the pending bound are dropped; sending resumes once some are done", async () => {
  const calls: { lane: string | undefined; done: () => void }[] = [];
  const kube = {
    createEvent: (_ns: string, _event: unknown, o?: { lane?: string }) =>
      new Promise<void>((resolve) => calls.push({ lane: o?.lane, done: resolve })),
  } as unknown as KubeClient;
  const lines: string[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => lines.push(line) });
  const events = createDrainEvents({
    kube,
    config: {
      emitKubernetesEvents: true,
      kubernetesEventsExtraAnnotations: {},
      kubernetesEventsComponent: "nthd",
      dryRun: false,
      podName: "nthd-0",
    },
    log,
    clock: () => new Date(0),
  });
  const pod = (i: number) => ({ namespace: "app", name: `p-${i}` });
  for (let i = 0; i < MAX_PENDING_EVENTS + 100; i++) events.podEvicted(pod(i), "n1", "evicted");
  assert.equal(calls.length, MAX_PENDING_EVENTS);
  assert.ok(calls.every((c) => c.lane === "background"));
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? "", /dropping new ones/);

  for (const c of calls.splice(0, 10)) c.done();
  await new Promise((r) => setImmediate(r));
  events.podEvicted(pod(-1), "n1", "evicted");
  assert.equal(calls.length, MAX_PENDING_EVENTS - 10 + 1);
  for (const c of calls) c.done();
  await events.flush();
});
