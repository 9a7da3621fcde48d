/**
 * The engine's report, as a source needs to hear it (the notice contract's
 * `NoticeOutcome`): whether to acknowledge, and whether an Auto Scaling
 * lifecycle action may now be completed. One table, so a new drain result
 * that is not mapped fails to compile.
 */
import type { NoticeOutcome, NoticeResult } from "../notice.ts";
import type { DrainReport, DrainResult } from "./report.ts";

interface ResultMeaning {
  readonly result: NoticeResult;
  /**
   * A terminate hook may be completed: the pods are gone, the deadline
   * passed, or there was nothing to drain (cordon-only, ignored by policy,
   * dry run). Never after a failed or cancelled drain.
   */
  readonly mayCompleteLifecycleAction: boolean;
}

const MEANING: Readonly<Record<DrainResult, ResultMeaning>> = {
  drained: { result: "handled", mayCompleteLifecycleAction: true },
  "deadline-exceeded": { result: "handled", mayCompleteLifecycleAction: true },
  cordoned: { result: "handled", mayCompleteLifecycleAction: true },
  "dry-run": { result: "handled", mayCompleteLifecycleAction: true },
  uncordoned: { result: "handled", mayCompleteLifecycleAction: false },
  ignored: { result: "ignored", mayCompleteLifecycleAction: true },
  failed: { result: "retry", mayCompleteLifecycleAction: false },
  // Shutdown or a cancel notice: another try (another replica) may finish it.
  cancelled: { result: "retry", mayCompleteLifecycleAction: false },
};

export function noticeOutcomeOf(
  report: Pick<DrainReport, "result" | "message" | "deadline" | "completion">,
): NoticeOutcome {
  const meaning = MEANING[report.result];
  return {
    ...meaning,
    summary: report.message,
    ...(report.deadline ? { deadline: report.deadline } : {}),
    ...(report.completion ? { completion: report.completion } : {}),
  };
}
