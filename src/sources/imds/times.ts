/**
 * The two timestamp formats instance metadata uses, read by the parsers the
 * queue source uses too (../times.ts: strict, never guessing a deadline):
 * RFC 3339 in spot/instance-action `time` and rebalance `noticeTime`, and
 * "21 Jan 2019 09:00:43 GMT" (Go layout "2 Jan 2006 15:04:05 GMT") in
 * scheduled events.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instances-status-check_sched.html
 */
import { parseAwsTime } from "../times.ts";

export { parseRfc3339 } from "../times.ts";

/** The scheduled-event format, accepting RFC 3339 too in case AWS switches. */
export const parseImdsEventTime: (text: unknown) => Date | undefined = parseAwsTime;
