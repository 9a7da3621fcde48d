import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cancelledId, stillHeld } from "../../src/drain/policy.ts";
import {
  isScheduled,
  joinPatch,
  markPatch,
  RECORD_ANNOTATION,
  readRecord,
  readState,
  releasePatch,
  STATE_LABEL,
} from "../../src/drain/record.ts";
import { DEFERRABLE_KINDS, drainStartFor, schedulePatch } from "../../src/drain/schedule.ts";
import { NOTICE_KINDS } from "../../src/notice.ts";
import { testConfig } from "../support/config.ts";
import { applyMergePatch } from "../support/merge-patch.ts";
import { node } from "../support/nodes.ts";
import { NOW, noticeBuilder } from "../support/notices.ts";

const IN_3_DAYS = new Date("2026-03-04T12:00:00Z");
const LEAD = 600;

const notice = noticeBuilder({
  id: "instance-event-0a1b2c3d",
  kind: "scheduled-maintenance",
  deadline: IN_3_DAYS,
  source: "imds",
  detail: { eventId: "instance-event-0a1b2c3d", code: "system-reboot" },
});

const SETTINGS = testConfig({ taintNode: true, excludeFromLoadBalancers: true });

describe("when a notice's drain starts", () => {
  test("planned work far ahead starts `lead` seconds before its deadline", () => {
    assert.deepEqual(
      drainStartFor(notice(), NOW, LEAD),
      new Date(IN_3_DAYS.getTime() - LEAD * 1000),
    );
    assert.deepEqual(
      drainStartFor(notice({ kind: "health-scheduled-change" }), NOW, LEAD),
      new Date(IN_3_DAYS.getTime() - LEAD * 1000),
    );
  });

  test("now when the start is reached, there is no deadline, the lead is 0 or the kind is not planned", () => {
    const soon = new Date(NOW.getTime() + LEAD * 1000);
    assert.equal(drainStartFor(notice({ deadline: soon }), NOW, LEAD), undefined);
    assert.equal(
      drainStartFor(notice({ deadline: new Date(soon.getTime() + 1000) }), NOW, LEAD)?.getTime(),
      NOW.getTime() + 1000,
      "one second left before the start: still scheduled",
    );
    const { deadline: _none, ...noDeadline } = notice();
    assert.equal(drainStartFor(noDeadline, NOW, LEAD), undefined);
    assert.equal(drainStartFor(notice(), NOW, 0), undefined, "0: drain at detection, like NTH");
    for (const kind of NOTICE_KINDS.filter((k) => !DEFERRABLE_KINDS.has(k))) {
      assert.equal(drainStartFor(notice({ kind }), NOW, LEAD), undefined, kind);
    }
  });
});

describe("scheduled record", () => {
  const drainAt = new Date(IN_3_DAYS.getTime() - LEAD * 1000);

  test("records the notice and its start, and changes nothing else on the node", () => {
    const n = node();
    const { patch, record } = schedulePatch(n, notice(), "drain", IN_3_DAYS, drainAt, NOW);
    const after = applyMergePatch(n, patch);
    assert.equal(after.spec?.unschedulable, undefined, "not cordoned");
    assert.equal(after.spec?.taints, undefined);
    assert.deepEqual(after.metadata?.labels, { [STATE_LABEL]: "scheduled" });
    assert.equal(after.metadata?.resourceVersion, "42");
    assert.equal(readState(after), "scheduled");
    const read = readRecord(after);
    assert.ok(read.ok && read.record);
    assert.deepEqual(read.record, record);
    assert.equal(isScheduled(record), true);
    assert.equal(record.drainAt, drainAt.toISOString());
    assert.equal(record.deadline, IN_3_DAYS.toISOString());
    assert.deepEqual(
      [record.cordoned, record.taints, record.lbExcluded],
      [false, [], false],
      "the record says nthd changed nothing",
    );
  });

  test("a cancel removes the record and leaves an operator's cordon", () => {
    const n = node({ unschedulable: true, labels: { team: "a" } });
    const { patch, record } = schedulePatch(n, notice(), "drain", IN_3_DAYS, drainAt, NOW);
    const scheduled = applyMergePatch(n, patch);
    const released = applyMergePatch(scheduled, releasePatch(scheduled, record));
    assert.equal(released.spec?.unschedulable, true);
    assert.deepEqual(released.metadata?.labels, { team: "a" });
    assert.equal(released.metadata?.annotations?.[RECORD_ANNOTATION], undefined);
  });

  test("the cordon at the start keeps the notice in place and works out nthd's changes afresh", () => {
    const n = node();
    const first = schedulePatch(n, notice(), "drain", IN_3_DAYS, drainAt, NOW);
    const scheduled = applyMergePatch(n, first.patch);
    const later = new Date(drainAt.getTime() + 1000);
    const { patch, record } = markPatch(
      scheduled,
      notice(),
      "drain",
      IN_3_DAYS,
      SETTINGS,
      later,
      first.record,
    );
    const marked = applyMergePatch(scheduled, patch);
    assert.equal(marked.spec?.unschedulable, true);
    assert.equal(readState(marked), "draining");
    assert.equal(record.cordoned, true, "nthd cordoned, so a cancel uncordons");
    assert.deepEqual(record.taints, ["aws-node-termination-handler/scheduled-maintenance"]);
    assert.equal(record.lbExcluded, true);
    assert.equal(record.at, later.toISOString(), "when nthd cordoned, not when it recorded");
    assert.equal(record.drainAt, undefined, "no longer scheduled");
    assert.equal(isScheduled(record), false);
    assert.deepEqual(
      record.notices.map((x) => x.id),
      ["instance-event-0a1b2c3d"],
    );
  });

  test("a second scheduled event joins the record with the sooner start and deadline", () => {
    const n = node();
    const first = schedulePatch(n, notice(), "cordon", IN_3_DAYS, drainAt, NOW);
    const scheduled = applyMergePatch(n, first.patch);
    const soonerDeadline = new Date(IN_3_DAYS.getTime() - 86_400_000);
    const soonerStart = new Date(soonerDeadline.getTime() - LEAD * 1000);
    const joined = applyMergePatch(
      scheduled,
      joinPatch(
        scheduled,
        first.record,
        notice({ id: "instance-event-2", deadline: soonerDeadline }),
        soonerDeadline,
        { drainAt: soonerStart, action: "drain" },
      ),
    );
    const read = readRecord(joined);
    assert.ok(read.ok && read.record);
    assert.equal(read.record.drainAt, soonerStart.toISOString());
    assert.equal(read.record.deadline, soonerDeadline.toISOString());
    assert.equal(
      read.record.action,
      "drain",
      "a drain notice turns a scheduled cordon into a drain",
    );
    assert.equal(joined.spec?.unschedulable, undefined);
  });

  test("joining a running drain's record never sets a start or changes its action", () => {
    const n = node();
    const marked = markPatch(
      n,
      notice({ kind: "rebalance-recommendation" }),
      "cordon",
      IN_3_DAYS,
      SETTINGS,
      NOW,
    );
    const after = applyMergePatch(n, marked.patch);
    const joined = applyMergePatch(
      after,
      joinPatch(after, marked.record, notice({ id: "x" }), IN_3_DAYS, {
        drainAt,
        action: "drain",
      }),
    );
    const read = readRecord(joined);
    assert.ok(read.ok && read.record);
    assert.equal(read.record.drainAt, undefined);
    assert.equal(read.record.action, "cordon");
  });
});

describe("which cancels release the node", () => {
  const held = [
    { id: "ev-a", kind: "scheduled-maintenance" as const },
    { id: "ev-b", kind: "scheduled-maintenance" as const },
  ];
  const cancel = (cancels?: unknown) => ({
    kind: "scheduled-maintenance" as const,
    detail: cancels === undefined ? {} : { cancels },
  });

  test("a cancel naming its event releases only when nothing else holds the node", () => {
    assert.equal(cancelledId(cancel("ev-a")), "ev-a");
    assert.equal(cancelledId(cancel(42)), undefined);
    assert.equal(cancelledId(cancel("")), undefined);
    assert.deepEqual(stillHeld([held[0] as (typeof held)[0]], cancel("ev-a")), []);
    assert.deepEqual(
      stillHeld(held, cancel("ev-a")).map((n) => n.id),
      ["ev-b"],
    );
  });

  test("a cancel for an event nthd does not hold the node for changes nothing", () => {
    // IMDS keeps listing completed events for days after a new one is announced.
    assert.deepEqual(
      stillHeld([held[0] as (typeof held)[0]], cancel("ev-old")).map((n) => n.id),
      ["ev-a"],
    );
  });

  test("a cancel naming nothing releases its whole family, never another family", () => {
    assert.deepEqual(stillHeld(held, cancel()), []);
    const spot = { id: "spot-1", kind: "spot-interruption" as const };
    assert.deepEqual(
      stillHeld([...held, spot], cancel()).map((n) => n.id),
      ["spot-1"],
    );
    assert.deepEqual(
      stillHeld([held[0] as (typeof held)[0], spot], cancel("ev-a")).map((n) => n.id),
      ["spot-1"],
    );
  });
});
