import type { DrainEngine } from "./drain/engine.ts";
import type { DrainReport } from "./drain/report.ts";
import type { Notice } from "./notice.ts";
import { type Logger, noticeLogger } from "./observe/log.ts";
import type { Webhook } from "./observe/webhook.ts";
import { webhookData } from "./observe/webhook-data.ts";

/** What a source gets back for one notice on one node. */
export interface HandledNotice {
  /** Durable on the node (cordon + nthd's record). Rejects when that failed. */
  readonly recorded: Promise<void>;
  /** The drain (or cordon, or uncordon) finished; never rejects. */
  readonly done: Promise<DrainReport>;
}

export type NoticeHandler = (notice: Notice, nodeName: string) => HandledNotice;

/**
 * Glue shared by both modes: hands a notice to the drain engine, and once its
 * outcome is known logs it and notifies the webhook (never before: a webhook
 * that says "drained" must be true).
 */
export function createNoticeHandler(deps: {
  engine: DrainEngine;
  webhook?: Webhook | undefined;
  log: Logger;
}): NoticeHandler {
  return (notice, nodeName) => {
    const log = noticeLogger(deps.log, notice, nodeName);
    log.info(
      { action: notice.action, deadline: notice.deadline?.toISOString() },
      "notice received",
    );
    const { recorded, done } = deps.engine.handle(notice, nodeName);
    recorded.catch((err: unknown) => log.error({ err }, "could not record the notice on the node"));
    void done.then((report) => {
      const fields = { result: report.result, pods: report.pods.length, resumed: report.resumed };
      if (report.result === "failed" || report.result === "deadline-exceeded") {
        log.warn(fields, report.message);
      } else {
        log.info(fields, report.message);
      }
      deps.webhook?.notify(
        webhookData(
          notice,
          { action: report.action, outcome: report.result, reason: report.message },
          {
            NodeName: nodeName,
            Pods: report.pods
              .filter((p) => p.outcome === "evicted")
              .map((p) => `${p.pod.namespace}/${p.pod.name}`),
          },
        ),
      );
    });
    return { recorded, done };
  };
}
