import { type DestinationStream, type Logger, pino } from "pino";
import type { Config } from "../config/index.ts";
import type { Notice } from "../notice.ts";

export type { Logger } from "pino";

/**
 * Log lines carry `level` as a word, `time` as ISO 8601 and the text under
 * `message`: the field names aws-node-termination-handler's JSON logs used, so
 * existing log queries keep matching.
 */
const MESSAGE_KEY = "message";

export type LogSettings = Pick<Config, "logLevel" | "jsonLogging">;

/**
 * The process logger. JSON lines by default; with `jsonLogging: false` the same
 * records are rewritten as `time LEVEL message key=value…` by a small writer,
 * which avoids a formatting dependency and a worker thread.
 * `destination` is for tests; the default is standard output.
 */
export function createLogger(settings: LogSettings, destination?: DestinationStream): Logger {
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: settings.logLevel,
      base: null,
      messageKey: MESSAGE_KEY,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    settings.jsonLogging ? out : humanReadable(out),
  );
}

/** A child logger whose every line names the notice, its kind, instance and node. */
export function noticeLogger(parent: Logger, notice: Notice, node?: string): Logger {
  return parent.child({
    noticeId: notice.id,
    kind: notice.kind,
    instanceId: notice.instanceId,
    ...(node === undefined ? {} : { node }),
  });
}

/** Wraps a destination so each JSON record is written as one readable line. */
export function humanReadable(out: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      out.write(formatLine(line));
    },
  };
}

/** One JSON log record → `2024-05-01T10:00:00.000Z INFO  message key=value`. */
export function formatLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`;
  }
  const { time, level, [MESSAGE_KEY]: message, err, ...fields } = record;
  const parts = [
    String(time ?? ""),
    String(level ?? "")
      .toUpperCase()
      .padEnd(5),
  ];
  if (message !== undefined) parts.push(String(message));
  for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${fieldText(value)}`);
  let text = parts.join(" ");
  if (err !== null && typeof err === "object") {
    const e = err as { message?: unknown; stack?: unknown };
    text += ` err=${fieldText(e.message)}`;
    if (typeof e.stack === "string") text += `\n${e.stack}`;
  }
  return `${text}\n`;
}

function fieldText(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? "undefined";
}
