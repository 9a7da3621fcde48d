import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DRAIN_STATES, type DrainState, type NodeRecord } from "../../src/drain/record.ts";
import { resumeStep } from "../../src/drain/resume-plan.ts";

const NOW = new Date("2026-03-01T12:00:00Z");
const PAST = "2026-03-01T11:58:00.000Z";
const FUTURE = "2026-03-01T12:02:00.000Z";

function record(over: Partial<NodeRecord> = {}): NodeRecord {
  return {
    v: 1,
    notices: [{ id: "n-1", kind: "spot-interruption", instanceId: "i-0123456789abcdef0" } as never],
    action: "drain",
    at: "2026-03-01T11:59:00.000Z",
    deadline: FUTURE,
    cordoned: true,
    taints: [],
    lbExcluded: false,
    ...over,
  };
}

describe("resume table: every recorded state, action, cordon and time left", () => {
  const states: (DrainState | undefined)[] = [...DRAIN_STATES, undefined];
  for (const state of states) {
    for (const action of ["drain", "cordon"] as const) {
      for (const unschedulable of [true, false]) {
        for (const deadline of [PAST, FUTURE]) {
          const name = `${state ?? "no label"}, ${action}, ${unschedulable ? "cordoned" : "uncordoned"}, deadline ${deadline === PAST ? "passed" : "ahead"}`;
          test(name, () => {
            const step = resumeStep(record({ action, deadline }), state, unschedulable, NOW);
            const resumable =
              action === "drain" &&
              (state === "draining" || (state === "incomplete" && deadline === FUTURE));
            if (resumable && unschedulable) return assert.deepEqual(step, { kind: "resume-drain" });
            assert.equal(step.kind, "report");
            assert.ok(step.kind === "report");
            if (resumable) {
              // The operator uncordoned while nthd was away: their word wins.
              assert.equal(step.result, "cancelled");
              return;
            }
            const expected =
              state === "drained"
                ? "drained"
                : state === "cordoned"
                  ? "cordoned"
                  : state === "incomplete"
                    ? "deadline-exceeded"
                    : "failed";
            assert.equal(step.result, expected);
            assert.match(step.message, /before restart/);
          });
        }
      }
    }
  }

  test("a scheduled record is re-armed at its recorded start, whatever the label says", () => {
    for (const state of states) {
      const step = resumeStep(
        record({ drainAt: "2026-03-04T11:50:00.000Z", deadline: "2026-03-04T12:00:00.000Z" }),
        state,
        false,
        NOW,
      );
      assert.deepEqual(step, { kind: "rearm", drainAt: new Date("2026-03-04T11:50:00.000Z") });
    }
  });
});
