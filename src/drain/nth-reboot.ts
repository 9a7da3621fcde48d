/**
 * Carries out nth-marks.ts's decision for this node at IMDS mode start-up:
 * a node aws-node-termination-handler cordoned for a scheduled reboot is
 * given back once the host has rebooted, as NTH's own pod would have done.
 */
import { errorMessage } from "../errors.ts";
import type { EngineContext } from "./context.ts";
import { decideAfterReboot, type RebootDecision } from "./nth-marks.ts";
import { updateNode } from "./record-write.ts";

export async function releaseNthRebootMarks(
  ctx: Pick<EngineContext, "kube" | "config" | "clock" | "log" | "events">,
  nodeName: string,
  uptimeSeconds: number,
): Promise<RebootDecision["kind"]> {
  const { kube, log, events } = ctx;
  let decision: RebootDecision = { kind: "none" };
  try {
    await updateNode(kube, nodeName, (node) => {
      decision = decideAfterReboot(node, ctx.clock().getTime() / 1000, uptimeSeconds);
      return decision.kind === "release" && !ctx.config.dryRun ? decision.patch : null;
    });
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "could not release the node after its scheduled reboot");
    events.step(nodeName, "UncordonError", `after reboot: ${errorMessage(err)}`);
    return "unreadable";
  }
  const d = decision as RebootDecision;
  switch (d.kind) {
    case "release":
      log.info(
        { eventId: d.eventId, dryRun: ctx.config.dryRun },
        "host rebooted since aws-node-termination-handler cordoned it: node uncordoned",
      );
      events.step(
        nodeName,
        "Uncordon",
        `host rebooted after scheduled event ${d.eventId}: uncordoned, aws-node-termination-handler's marks removed`,
      );
      break;
    case "waiting":
      log.info(
        { secondsSinceAction: d.secondsSinceAction, uptimeSeconds: d.uptimeSeconds },
        "node cordoned by aws-node-termination-handler for a reboot that has not happened yet",
      );
      break;
    case "unreadable":
      log.warn(
        { label: d.reason },
        "unreadable aws-node-termination-handler reboot mark: left alone",
      );
      break;
    case "none":
      break;
    default: {
      const unhandled: never = d;
      return unhandled;
    }
  }
  return d.kind;
}
