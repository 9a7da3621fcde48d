/**
 * The notice handler both modes give their source: the one entry from a
 * source into the drain engine. Every notice received is counted and logged
 * here, for both modes; the engine's report is turned into the outcome the
 * notice contract promises a source.
 */
import type { DrainEngine } from "../drain/engine.ts";
import { noticeOutcomeOf } from "../drain/outcome.ts";
import type { NoticeHandler } from "../notice.ts";
import { type Logger, noticeLogger } from "../observe/log.ts";
import { countNoticeReceived } from "../observe/metrics.ts";

export function createNoticeHandler(deps: {
  engine: Pick<DrainEngine, "handle">;
  log: Logger;
}): NoticeHandler {
  return (notice, nodeName) => {
    countNoticeReceived(notice.kind, notice.source);
    const log = noticeLogger(deps.log, notice, nodeName);
    log.info(
      { action: notice.action, deadline: notice.deadline?.toISOString() },
      "notice received",
    );
    const { recorded, done } = deps.engine.handle(notice, nodeName);
    recorded.catch((err: unknown) => log.error({ err }, "could not record the notice on the node"));
    return { recorded, done: done.then(noticeOutcomeOf) };
  };
}
