import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type AdmissionSettings,
  admit,
  admitCancel,
  deadlineFor,
  type RunningWork,
} from "../../src/drain/admission.ts";
import { actionFor } from "../../src/drain/policy.ts";
import { DEFERRABLE_KINDS } from "../../src/drain/schedule.ts";
import { NOTICE_ACTIONS, NOTICE_KINDS, type NoticeKind } from "../../src/notice.ts";
import { NOW, notice } from "../support/notices.ts";

const IN_2_MIN = new Date("2026-03-01T12:02:00Z");
const IN_3_DAYS = new Date("2026-03-04T12:00:00Z");
const SETTINGS: AdmissionSettings = {
  cordonOnly: false,
  enableRebalanceDraining: false,
  scheduledDrainLeadSeconds: 600,
  nodeTerminationGracePeriodSeconds: 120,
};

function running(over: Partial<RunningWork> = {}): RunningWork {
  return {
    ids: new Set(["r-1"]),
    kinds: new Set<NoticeKind>(["spot-interruption"]),
    action: "drain",
    waiting: false,
    drainAt: undefined,
    deadlineAt: IN_2_MIN,
    ...over,
  };
}

const RUNNING_STATES: Record<string, RunningWork | undefined> = {
  none: undefined,
  cordon: running({ action: "cordon", kinds: new Set(["rebalance-recommendation"]) }),
  drain: running(),
  "scheduled cordon": running({
    action: "cordon",
    waiting: true,
    drainAt: new Date(IN_3_DAYS.getTime() - 600_000),
    deadlineAt: IN_3_DAYS,
    kinds: new Set(["scheduled-maintenance"]),
  }),
  "scheduled drain": running({
    waiting: true,
    drainAt: new Date(IN_3_DAYS.getTime() - 600_000),
    deadlineAt: IN_3_DAYS,
    kinds: new Set(["scheduled-maintenance"]),
  }),
};

describe("admission: every node state against every notice kind and action", () => {
  for (const [state, work] of Object.entries(RUNNING_STATES)) {
    for (const kind of NOTICE_KINDS) {
      for (const action of NOTICE_ACTIONS) {
        test(`${state} ← ${kind}/${action}`, () => {
          const n = notice({
            kind,
            action,
            deadline: DEFERRABLE_KINDS.has(kind) ? IN_3_DAYS : IN_2_MIN,
          });
          const a = admit(n, work, NOW, SETTINGS, false);
          const engineAction = actionFor(n, SETTINGS);
          if (engineAction === "none") return assert.equal(a.kind, "ignore");
          if (engineAction === "uncordon") return assert.equal(a.kind, "uncordon");
          if (work === undefined) {
            assert.equal(a.kind, "start");
            assert.ok(a.kind === "start");
            assert.equal(a.action, engineAction);
            // Deferrable kinds far ahead wait for their start; the rest act now.
            assert.equal(a.drainAt !== undefined, DEFERRABLE_KINDS.has(kind));
            if (a.drainAt) assert.equal(a.drainAt.getTime(), IN_3_DAYS.getTime() - 600_000);
            return;
          }
          if (work.action === "cordon" && !work.waiting && engineAction === "drain") {
            // Upgrade: the drain starts once the cordon's work is over.
            return assert.equal(a.kind, "after-running");
          }
          assert.equal(a.kind, "join");
          assert.ok(a.kind === "join");
          // The work's deadline never moves later.
          assert.ok(a.effect.deadlineAt.getTime() <= work.deadlineAt.getTime());
          if (!work.waiting) {
            assert.equal(a.effect.action, work.action);
            assert.equal(a.effect.actNow, true);
          }
        });
      }
    }
  }

  test("the same notice again answers with the running work", () => {
    const a = admit(notice({ id: "r-1" }), running(), NOW, SETTINGS, false);
    assert.equal(a.kind, "same");
  });

  test("a Spot warning joining a scheduled cordon brings it to now, as a drain", () => {
    const work = RUNNING_STATES["scheduled cordon"] as RunningWork;
    const a = admit(notice(), work, NOW, SETTINGS, false);
    assert.ok(a.kind === "join");
    assert.deepEqual(
      {
        action: a.effect.action,
        drainAt: a.effect.drainAt,
        wake: a.effect.wake,
        actNow: a.effect.actNow,
        deadlineAt: a.effect.deadlineAt,
      },
      { action: "drain", drainAt: NOW, wake: true, actNow: true, deadlineAt: IN_2_MIN },
    );
  });

  test("a later scheduled event joining a scheduled drain leaves its start and waits too", () => {
    const work = RUNNING_STATES["scheduled drain"] as RunningWork;
    const later = new Date(IN_3_DAYS.getTime() + 86_400_000);
    const a = admit(
      notice({ id: "n-2", kind: "scheduled-maintenance", deadline: later }),
      work,
      NOW,
      SETTINGS,
      false,
    );
    assert.ok(a.kind === "join");
    assert.equal(a.effect.drainAt, work.drainAt);
    assert.equal(a.effect.wake, false);
    assert.equal(a.effect.actNow, false);
    assert.equal(a.effect.deadlineAt, IN_3_DAYS);
    assert.equal(a.effect.noticeDeadline, later);
  });

  test("a dry run never schedules: nothing is recorded to wait on", () => {
    const a = admit(
      notice({ kind: "scheduled-maintenance", deadline: IN_3_DAYS }),
      undefined,
      NOW,
      SETTINGS,
      true,
    );
    assert.ok(a.kind === "start");
    assert.equal(a.drainAt, undefined);
  });

  test("cordon-only turns a drain into a cordon; rebalance drains only when enabled", () => {
    const cordonOnly = admit(notice(), undefined, NOW, { ...SETTINGS, cordonOnly: true }, false);
    assert.ok(cordonOnly.kind === "start" && cordonOnly.action === "cordon");
    const queued = notice({ kind: "rebalance-recommendation", action: "cordon", source: "queue" });
    const fromQueue = admit(queued, undefined, NOW, SETTINGS, false);
    assert.ok(fromQueue.kind === "start" && fromQueue.action === "drain", "queue: as NTH");
    const reb = notice({ kind: "rebalance-recommendation", action: "cordon", source: "imds" });
    const off = admit(reb, undefined, NOW, SETTINGS, false);
    assert.ok(off.kind === "start" && off.action === "cordon");
    const on = admit(reb, undefined, NOW, { ...SETTINGS, enableRebalanceDraining: true }, false);
    assert.ok(on.kind === "start" && on.action === "drain");
  });

  test("deadline: the notice's own, else node-termination-grace-period from now", () => {
    assert.equal(deadlineFor({ deadline: IN_3_DAYS }, NOW, SETTINGS), IN_3_DAYS);
    assert.equal(deadlineFor({}, NOW, SETTINGS).getTime(), NOW.getTime() + 120_000);
    const a = admit(notice({ deadline: undefined }), undefined, NOW, SETTINGS, false);
    assert.ok(a.kind === "start");
    assert.equal(a.deadline.getTime(), NOW.getTime() + 120_000);
  });
});

describe("admission of a cancel", () => {
  const held = (ids: string[], kinds: NoticeKind[]) => ({
    ids: new Set(ids),
    kinds: new Set(kinds),
    firstKind: kinds[0] as NoticeKind,
  });
  const cancel = (kind: NoticeKind, cancels?: string) =>
    notice({ id: "c-1", kind, action: "uncordon", detail: cancels ? { cancels } : {} });

  test("no running work: release what the record says", () => {
    assert.deepEqual(admitCancel(cancel("scheduled-maintenance"), undefined), {
      kind: "release",
      abortRunning: false,
    });
  });

  test("another family's drain is left alone", () => {
    const v = admitCancel(cancel("scheduled-maintenance"), held(["s-1"], ["spot-interruption"]));
    assert.equal(v.kind, "ignore");
  });

  test("a cancel naming another event, or one of several, leaves the work", () => {
    const one = held(["ev-1"], ["scheduled-maintenance"]);
    assert.equal(admitCancel(cancel("scheduled-maintenance", "ev-old"), one).kind, "ignore");
    const two = held(["ev-1", "ev-2"], ["scheduled-maintenance"]);
    assert.equal(admitCancel(cancel("scheduled-maintenance", "ev-1"), two).kind, "ignore");
  });

  test("a cancel of the work's own event aborts it and releases", () => {
    const one = held(["ev-1"], ["scheduled-maintenance"]);
    assert.deepEqual(admitCancel(cancel("scheduled-maintenance", "ev-1"), one), {
      kind: "release",
      abortRunning: true,
    });
    // Same family through the taint key: a Health change cancels scheduled maintenance.
    assert.equal(admitCancel(cancel("health-scheduled-change"), one).kind, "release");
  });
});
