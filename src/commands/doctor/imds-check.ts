/**
 * IMDS mode: can this pod reach the instance metadata service? The IMDSv2
 * token PUT is what fails first when the hop limit is 1 and the pod is not
 * on the host network: the answer is dropped one hop short of the pod.
 */
import { errorMessage } from "../../errors.ts";
import { type CheckResult, fail, pass } from "./check.ts";

const TIMEOUT_MS = 2000;

export async function checkImds(metadataUrl: string): Promise<CheckResult> {
  const title = "instance metadata (IMDSv2) reachable";
  const url = `${metadataUrl.replace(/\/$/, "")}/latest/api/token`;
  const hopHint =
    "set the instance's metadata hop limit to 2 (aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2 --http-tokens required), or run the DaemonSet with hostNetwork";
  try {
    const res = await fetch(url, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = await res.text();
    if (res.ok && body.length > 0) return pass("imds", title, `token issued by ${metadataUrl}`);
    return fail(
      "imds",
      title,
      `token PUT ${url} answered HTTP ${res.status}`,
      res.status === 403
        ? "IMDS is disabled on this instance: enable it (--http-endpoint enabled)"
        : hopHint,
    );
  } catch (err) {
    return fail(
      "imds",
      title,
      `token PUT ${url}: ${errorMessage(err)} (no answer within ${TIMEOUT_MS} ms)`,
      hopHint,
    );
  }
}
