/**
 * One progress line on a terminal's standard error while a large cluster is
 * read and audited ("pods 3500/10000 (page 7)"), rewritten in place at most
 * ten times a second and erased at the end. Nothing is written when the
 * stream is not a terminal, so piped output and --json stay clean.
 */
export interface Progress {
  update(line: string): void;
  done(): void;
}

const MIN_INTERVAL_MS = 100;
const CLEAR_LINE = "\r\x1b[2K";

export function createProgress(
  stream: { isTTY?: boolean; columns?: number; write(s: string): unknown },
  enabled: boolean,
  now: () => number = () => performance.now(),
): Progress {
  if (!enabled || stream.isTTY !== true) return { update() {}, done() {} };
  let last = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    update(line) {
      const t = now();
      if (t - last < MIN_INTERVAL_MS) return;
      last = t;
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`${CLEAR_LINE}nthd audit: ${line}`.slice(0, width + CLEAR_LINE.length));
      shown = true;
    },
    done() {
      if (shown) stream.write(CLEAR_LINE);
      shown = false;
    },
  };
}
