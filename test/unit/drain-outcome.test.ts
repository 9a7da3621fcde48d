import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { noticeOutcomeOf } from "../../src/drain/outcome.ts";
import { DRAIN_RESULTS } from "../../src/drain/report.ts";

describe("what a source is told of the engine's report", () => {
  test("a lifecycle action may be completed only after the drain finished, its deadline passed, or nothing was to drain", () => {
    for (const r of ["drained", "deadline-exceeded", "cordoned", "ignored", "dry-run"] as const) {
      assert.equal(noticeOutcomeOf({ result: r, message: r }).mayCompleteLifecycleAction, true, r);
    }
    for (const r of ["failed", "cancelled", "uncordoned"] as const) {
      assert.equal(noticeOutcomeOf({ result: r, message: r }).mayCompleteLifecycleAction, false, r);
    }
  });

  test("failed and cancelled work is retried, ignored work is ignored, the rest handled", () => {
    const results = Object.fromEntries(
      DRAIN_RESULTS.map((r) => [r, noticeOutcomeOf({ result: r, message: "" }).result]),
    );
    assert.deepEqual(results, {
      drained: "handled",
      cordoned: "handled",
      uncordoned: "handled",
      "deadline-exceeded": "handled",
      failed: "retry",
      cancelled: "retry",
      ignored: "ignored",
      "dry-run": "handled",
    });
  });

  test("carries the report's line and deadline", () => {
    const deadline = new Date("2026-01-01T00:02:00Z");
    const o = noticeOutcomeOf({ result: "drained", message: "drained: 3 evicted", deadline });
    assert.equal(o.summary, "drained: 3 evicted");
    assert.equal(o.deadline, deadline);
  });
});
