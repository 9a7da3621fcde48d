import { errorMessage, NthdError } from "../errors.ts";
import type { NoticeHandler, NoticeOutcome, NoticeReceipt } from "../notice.ts";

/**
 * Holds new notices until the work an earlier nthd recorded on the node has
 * been taken back, or the first try to take it back failed (`resumed`
 * resolves): a resume that keeps failing must not hold new notices forever.
 *
 * IMDS mode polls the metadata service and asks the API server for its node
 * at the same time. After a restart mid-drain, the metadata service still
 * serves the interruption the killed process was draining; handed to the
 * engine before the recorded work is resumed, it would start that drain as
 * new work (a second start Event, a counted interruption) instead of picking
 * the recorded one up. So a notice found first waits for the resume, at
 * most `waitMs` (one poll interval): when the API server is still not
 * answering by then, the notice is refused as a retry and the poller hands
 * it over again on its next poll, as for any other failure to record it.
 * `onHeld` wakes the API side's retry, which otherwise backs off up to 30 s:
 * a node with a notice waiting is worth a try at every poll.
 */
export function afterResume(
  handle: NoticeHandler,
  resumed: Promise<unknown>,
  waitMs: number,
  onHeld: () => void = () => {},
): NoticeHandler {
  let ready = false;
  resumed.then(
    () => {
      ready = true;
    },
    () => {},
  );
  return (notice, nodeName): NoticeReceipt => {
    if (ready) return handle(notice, nodeName);
    // Someone needs the API server now: its retry should not sleep out its back-off.
    onHeld();
    const receipt = within(resumed, waitMs).then(() => handle(notice, nodeName));
    return {
      recorded: receipt.then((r) => r.recorded),
      done: receipt.then(
        (r) => r.done,
        (err: unknown): NoticeOutcome => ({
          result: "retry",
          mayCompleteLifecycleAction: false,
          summary: errorMessage(err),
        }),
      ),
    };
  };
}

function within(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new NthdError(
            "KUBE_API",
            "waiting for the API server to take back the work recorded on the node",
          ),
        ),
      ms,
    );
    p.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
