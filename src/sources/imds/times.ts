/**
 * The two timestamp formats instance metadata uses. Strict on purpose:
 * `Date.parse` accepts almost anything, and a wrong deadline is worse than a
 * missing one (the caller then falls back and says so).
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// RFC 3339 as used by spot/instance-action `time` and rebalance `noticeTime`.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

// Scheduled events: "21 Jan 2019 09:00:43 GMT" (Go layout "2 Jan 2006 15:04:05 GMT").
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instances-status-check_sched.html
const IMDS_EVENT_TIME = /^(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (?:GMT|UTC)$/;

interface Parts {
  y: number;
  mo: number; // 1..12
  d: number;
  h: number;
  mi: number;
  s: number;
}

/** Parses an RFC 3339 timestamp; undefined when the text is not one. */
export function parseRfc3339(text: unknown): Date | undefined {
  if (typeof text !== "string") return undefined;
  const m = RFC3339.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as number[];
  if (!valid({ y, mo, d, h, mi, s } as Parts)) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Parses the scheduled-event format, accepting RFC 3339 too in case AWS switches. */
export function parseImdsEventTime(text: unknown): Date | undefined {
  if (typeof text !== "string") return undefined;
  const m = IMDS_EVENT_TIME.exec(text.trim());
  if (!m) return parseRfc3339(text);
  const mo = MONTHS.findIndex((name) => name.toLowerCase() === m[2]?.toLowerCase()) + 1;
  const [d, y, h, mi, s] = [m[1], m[3], m[4], m[5], m[6]].map(Number) as number[];
  const parts = { y, mo, d, h, mi, s } as Parts;
  if (!valid(parts)) return undefined;
  return new Date(Date.UTC(parts.y, parts.mo - 1, parts.d, parts.h, parts.mi, parts.s));
}

function valid(p: Parts): boolean {
  if (Object.values(p).some((v) => !Number.isInteger(v))) return false;
  if (p.mo < 1 || p.mo > 12 || p.d < 1 || p.h > 23 || p.mi > 59 || p.s > 60) return false;
  // Day 31 of a 30-day month etc.: Date.UTC would silently roll over.
  return p.d <= new Date(Date.UTC(p.y, p.mo, 0)).getUTCDate();
}
