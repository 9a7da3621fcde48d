/**
 * Queue mode's start-up check of its AWS permissions: finds out which of the
 * IAM actions nthd uses are refused (src/aws/permissions.ts), says so once per
 * action (what stops working, in the log and in nthd_aws_permission_missing)
 * and lets the parts that need them stand down instead of failing call after
 * call. A probe that cannot tell (network, throttling) changes nothing: those
 * calls are made and judged as they go.
 */
import type { AwsClients } from "../aws/clients.ts";
import { deniedActions, probePermissions, QUEUE_MODE_PERMISSIONS } from "../aws/permissions.ts";
import { errorMessage } from "../errors.ts";
import type { AwsPermission } from "../observe/labels.ts";
import type { Logger } from "../observe/log.ts";
import { setAwsPermissionMissing } from "../observe/metrics.ts";

export async function checkPermissions(
  aws: AwsClients,
  queueUrl: string,
  log: Logger,
): Promise<{ denied: ReadonlySet<AwsPermission>; refused: (action: AwsPermission) => void }> {
  const warned = new Set<AwsPermission>();
  const refused = (action: AwsPermission) => {
    setAwsPermissionMissing(action, true);
    if (warned.has(action)) return;
    warned.add(action);
    const spec = QUEUE_MODE_PERMISSIONS.find((p) => p.action === action);
    log.warn(
      { action, required: spec?.required, without: spec?.without },
      `AWS permission missing: ${action}; ${spec?.without ?? ""}. Grant it to nthd's IAM role (docs/install.md, docs/kops.md)`,
    );
  };
  try {
    const results = await probePermissions(aws, queueUrl);
    for (const r of results) {
      if (r.state === "denied") refused(r.action);
      else if (r.state === "allowed") setAwsPermissionMissing(r.action, false);
    }
    return { denied: deniedActions(results), refused };
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "could not check AWS permissions at start-up");
    return { denied: new Set(), refused };
  }
}
