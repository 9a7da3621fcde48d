/**
 * The timestamp formats AWS writes in what either source reads. Strict on
 * purpose: `Date.parse` accepts almost anything and rolls 30 February over to
 * March, and a wrong deadline is worse than a missing one (the caller then
 * falls back and says so). Pure, no imports, never throws: anything else,
 * a non-string included, is undefined.
 *
 * - RFC 3339: EventBridge `time`, Auto Scaling `Time`, capacity-reservation
 *   `instance-termination-time`; in instance metadata spot/instance-action
 *   `time` and rebalance `noticeTime`.
 * - RFC 1123 dates: AWS Health `startTime` ("Sat, 05 Jun 2016 15:10:09 GMT")
 *   and scheduled events' `NotBefore` ("21 Jan 2019 09:00:43 GMT", Go layout
 *   "2 Jan 2006 15:04:05 GMT").
 *
 * JavaScript dates have no leap second, so a second of 60 is not accepted.
 */

/**
 * RFC 3339 section 5.6. "T" and "Z" may be lower case (its note); a fraction
 * has one or more digits, kept to the millisecond. No space separator and no
 * surrounding white space.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * RFC 1123 as AWS writes it: an optional weekday, which is not checked (the
 * Health sample itself names the wrong one), a day of one or two digits, an
 * English month abbreviation, a four-digit year, and GMT.
 */
const RFC1123 =
  /^(?:[A-Z][a-z]{2}, )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An RFC 3339 timestamp, e.g. 2025-01-15T10:00:00Z or 2025-01-15T10:00:00.5+02:00. */
export function parseRfc3339(value: unknown): Date | undefined {
  const m = match(RFC3339, value);
  if (m === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = "", sign, offsetH, offsetM] = m;
  let offsetMinutes = 0;
  if (sign !== undefined) {
    if (Number(offsetH) > 23 || Number(offsetM) > 59) return undefined;
    offsetMinutes = (sign === "-" ? -1 : 1) * (Number(offsetH) * 60 + Number(offsetM));
  }
  const utc = utcDate(
    Number(year),
    Number(month),
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    Number(fraction.slice(0, 3).padEnd(3, "0")),
  );
  return utc && new Date(utc.getTime() - offsetMinutes * 60_000);
}

/** An RFC 1123 date in GMT, e.g. "Sat, 05 Jun 2016 15:10:09 GMT" or "2 Dec 2026 21:35:31 GMT". */
export function parseHttpDate(value: unknown): Date | undefined {
  const m = match(RFC1123, value);
  if (m === null) return undefined;
  const [, day, month, year, hour, minute, second] = m;
  const monthNumber = MONTHS.indexOf(month ?? "") + 1;
  return utcDate(
    Number(year),
    monthNumber,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    0,
  );
}

/** Either timestamp form AWS uses. */
export function parseAwsTime(value: unknown): Date | undefined {
  return parseRfc3339(value) ?? parseHttpDate(value);
}

function match(format: RegExp, value: unknown): RegExpExecArray | null {
  return typeof value === "string" ? format.exec(value) : null;
}

/** The UTC instant of these fields, or undefined when one is out of range (30 February, 24:00). */
function utcDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): Date | undefined {
  if (![year, month, day, hour, minute, second, ms].every(Number.isInteger)) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0..99 as 1900..1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
