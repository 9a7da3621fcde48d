/**
 * Undoing what nthd did to a node, after a cancel or completion notice:
 * only when the node's record says nthd did it, and only for notices of the
 * same family. An operator's cordon is never undone.
 */
import { errorMessage } from "../errors.ts";
import type { Notice } from "../notice.ts";
import { noticeLogger } from "../observe/log.ts";
import { type EngineContext, makeReport } from "./context.ts";
import { stillHeld } from "./policy.ts";
import { isScheduled, readRecord, releasePatch } from "./record.ts";
import { updateNode } from "./record-write.ts";
import type { DrainReport } from "./report.ts";

export async function release(
  ctx: EngineContext,
  notice: Notice,
  nodeName: string,
  startedAt: Date,
): Promise<DrainReport> {
  const log = noticeLogger(ctx.log, notice, nodeName);
  const base = { nodeName, notice, joined: [], startedAt, resumed: false };
  let verdict = "";
  // A scheduled record: nthd had not touched the node, so only the record goes.
  let scheduled = false;
  try {
    const result = await updateNode(ctx.kube, nodeName, (node) => {
      const current = readRecord(node);
      if (!current.ok) {
        verdict = `nthd's record on the node is damaged (${current.error}); left as it is`;
        return null;
      }
      const record = current.record;
      if (!record) {
        verdict = "nthd did not cordon this node; left as it is";
        return null;
      }
      const others = stillHeld(record.notices, notice);
      if (others.length > 0) {
        verdict = `nthd holds the node for ${others.map((n) => `${n.kind} ${n.id}`).join(", ")}; left as it is`;
        return null;
      }
      scheduled = isScheduled(record);
      if (ctx.config.dryRun) {
        verdict = "dry run: would uncordon";
        return null;
      }
      return releasePatch(node, record);
    });
    if (!result.found)
      return makeReport(ctx, base, "uncordon", "ignored", {
        message: `node ${nodeName} not found`,
      });
    if (!result.patched) {
      log.info(verdict);
      if (ctx.config.dryRun) ctx.announce.uncordon(notice, nodeName, "dry-run");
      return makeReport(
        ctx,
        base,
        "uncordon",
        ctx.config.dryRun && verdict.startsWith("dry") ? "dry-run" : "ignored",
        {
          message: verdict,
        },
      );
    }
    if (scheduled) {
      const message = "scheduled drain cancelled before it started; nthd's record removed";
      log.info(message);
      return makeReport(ctx, base, "uncordon", "uncordoned", { message });
    }
    ctx.announce.uncordon(notice, nodeName, "success");
    log.info("node uncordoned");
    return makeReport(ctx, base, "uncordon", "uncordoned", { message: "uncordoned" });
  } catch (err) {
    ctx.announce.uncordon(notice, nodeName, "error", errorMessage(err));
    log.error({ err: errorMessage(err) }, "uncordon failed");
    return makeReport(ctx, base, "uncordon", "failed", { message: errorMessage(err) });
  }
}
