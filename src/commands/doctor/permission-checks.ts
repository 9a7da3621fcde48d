/**
 * Doctor's view of nthd's AWS permissions: the same probe queue mode runs at
 * start-up (src/aws/permissions.ts), one line per IAM action, naming what
 * stops working for each one refused.
 */
import { type ProbeClients, probePermissions } from "../../aws/permissions.ts";
import { errorMessage } from "../../errors.ts";
import { type CheckResult, fail, pass, skip, warn } from "./check.ts";

export async function checkPermissions(
  clients: ProbeClients,
  queueUrl: string,
): Promise<CheckResult[]> {
  let results: Awaited<ReturnType<typeof probePermissions>>;
  try {
    results = await probePermissions(clients, queueUrl);
  } catch (err) {
    return [
      skip("aws:permissions", "AWS permissions", `could not be probed: ${errorMessage(err)}`),
    ];
  }
  return results.map((r) => {
    const id = `permission:${r.action}`;
    const title = `${r.action}${r.required ? "" : " (optional)"}`;
    const grant = `grant ${r.action} to nthd's IAM role (docs/install.md; on kOps: docs/kops.md, "IAM")`;
    switch (r.state) {
      case "allowed":
        return pass(id, title, "allowed");
      case "denied":
        return r.required
          ? fail(id, title, `denied: ${r.without}`, grant)
          : warn(id, title, `denied: ${r.without}`, grant);
      case "unknown":
        return skip(id, title, r.detail ?? "not probed");
      default: {
        const unhandled: never = r.state;
        return unhandled;
      }
    }
  });
}
