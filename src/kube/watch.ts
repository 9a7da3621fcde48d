/**
 * Kubernetes watch streams: one JSON object per line, `{"type": ..., "object": ...}`.
 * The splitter and parser are pure (chunks may cut a line or a UTF-8
 * character anywhere); `consumeWatch` feeds a response body through them.
 * An ERROR event carries a Status (410 Gone: the resourceVersion is too old,
 * list again); it ends the watch as a KubeApiError instead of being passed on.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
 */
import type { Readable } from "node:stream";
import { errorMessage } from "../errors.ts";
import { classifyKubeError, KubeApiError } from "./api-error.ts";

export const WATCH_EVENT_TYPES = ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"] as const;
export type WatchEventType = (typeof WATCH_EVENT_TYPES)[number];

export type WatchLine =
  | { readonly ok: true; readonly type: WatchEventType; readonly object: Record<string, unknown> }
  | { readonly ok: false; readonly error: string };

/** A line this long is not an object the API server would send (etcd caps objects near 1.5 MiB). */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

/** Splits a byte stream into lines; `push` returns the lines completed by a chunk. */
export function createLineSplitter(): {
  push(chunk: Uint8Array): string[];
  /** Whatever is left after the stream ended (a last line without newline). */
  flush(): string[];
  /** Characters held waiting for a newline. */
  readonly pending: number;
} {
  const decoder = new TextDecoder();
  let rest = "";
  const split = (text: string): string[] => {
    const parts = (rest + text).split("\n");
    rest = parts.pop() ?? "";
    return parts.map((p) => (p.endsWith("\r") ? p.slice(0, -1) : p)).filter((p) => p !== "");
  };
  return {
    push: (chunk) => split(decoder.decode(chunk, { stream: true })),
    flush() {
      const lines = split(`${decoder.decode()}\n`);
      rest = "";
      return lines;
    },
    get pending() {
      return rest.length;
    },
  };
}

/** Never throws: a malformed line comes back as `{ ok: false, error }`. */
export function parseWatchLine(line: string): WatchLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `watch line is not JSON: ${errorMessage(err)}` };
  }
  if (typeof parsed !== "object" || parsed === null) {
    return { ok: false, error: "watch line is not an object" };
  }
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (!WATCH_EVENT_TYPES.includes(type as WatchEventType)) {
    return { ok: false, error: `unknown watch event type ${JSON.stringify(type)}` };
  }
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    return { ok: false, error: `watch event ${type as string} has no object` };
  }
  return { ok: true, type: type as WatchEventType, object: object as Record<string, unknown> };
}

/** The Status of an ERROR event as an API error (410 Gone when the resourceVersion expired). */
export function watchErrorOf(status: Record<string, unknown>): KubeApiError {
  const code = typeof status.code === "number" ? status.code : 500;
  return new KubeApiError(code, status);
}

/** Whether a watch ended because its resourceVersion is too old to resume from. */
export function isExpired(err: unknown): boolean {
  return classifyKubeError(err).status === 410;
}

/**
 * Reads a watch body to its end, calling `onEvent` per event (ERROR excluded)
 * and `onEnd` exactly once: undefined when the server closed the stream
 * (its timeoutSeconds ran out), else the reason (ERROR event, bad line,
 * network failure, abort).
 */
export function consumeWatch(
  body: Readable,
  onEvent: (type: WatchEventType, object: Record<string, unknown>) => void,
  onEnd: (err: unknown) => void,
  signal: AbortSignal,
): void {
  let ended = false;
  const end = (err: unknown) => {
    if (ended) return;
    ended = true;
    signal.removeEventListener("abort", onAbort);
    body.destroy();
    onEnd(err);
  };
  const onAbort = () => end(signal.reason);
  if (signal.aborted) {
    end(signal.reason);
    return;
  }
  signal.addEventListener("abort", onAbort, { once: true });

  const splitter = createLineSplitter();
  const deliver = (lines: string[]): boolean => {
    for (const line of lines) {
      const event = parseWatchLine(line);
      if (!event.ok) {
        end(new Error(event.error));
        return false;
      }
      if (event.type === "ERROR") {
        end(watchErrorOf(event.object));
        return false;
      }
      onEvent(event.type, event.object);
      if (ended) return false;
    }
    return true;
  };
  (async () => {
    for await (const chunk of body) {
      if (ended || !deliver(splitter.push(chunk as Uint8Array))) return;
      if (splitter.pending > MAX_LINE_CHARS) {
        end(new Error("watch line too long"));
        return;
      }
    }
    if (deliver(splitter.flush())) end(undefined);
  })().catch((err: unknown) => end(signal.aborted ? signal.reason : err));
}
