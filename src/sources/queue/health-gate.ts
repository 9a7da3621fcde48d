/**
 * Back-pressure decisions for the queue consumer, pure and without I/O
 * (outage-gate.ts carries them out).
 *
 * A message whose notice cannot be recorded because the Kubernetes API (or
 * an AWS call it needs) is unavailable is not left for redelivery: every
 * redelivery raises its receive count, and the queue's redrive policy moves
 * it to the dead-letter queue after maxReceiveCount (5 by `nthd setup`), in
 * a few minutes. Instead the consumer holds it (its visibility is extended
 * meanwhile), stops receiving more, and tries again with back-off; when the
 * failing system answers again every held message is tried at once.
 *
 * Only failures that say the system is unavailable count (no answer, 5xx,
 * 429, a timeout); a refusal of the request itself (403, 404, a validation
 * error) is not an outage and takes the old path.
 */
import { NthdError } from "../../errors.ts";

export const DEPENDENCIES = ["kube", "aws"] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

export interface GateState {
  /** Since when (ms) each failing system has been failing; absent: answering. */
  readonly failingSince: Readonly<Partial<Record<Dependency, number>>>;
  /** When (ms) each failing system last failed. */
  readonly lastFailure: Readonly<Partial<Record<Dependency, number>>>;
}

export const OPEN_GATE: GateState = { failingSince: {}, lastFailure: {} };

/**
 * A failing system that has not been seen failing for this long lets
 * receiving resume, so something tries it again: without it a system that
 * nothing probes (EC2, Auto Scaling) would keep the gate shut for good once
 * no held message was left to retry it.
 */
export const QUIET_REOPEN_MS = 30_000;

export function afterFailure(state: GateState, dep: Dependency, nowMs: number): GateState {
  return {
    failingSince: { ...state.failingSince, [dep]: state.failingSince[dep] ?? nowMs },
    lastFailure: { ...state.lastFailure, [dep]: nowMs },
  };
}

export function afterSuccess(state: GateState, dep: Dependency): GateState {
  if (state.failingSince[dep] === undefined) return state;
  const { [dep]: _since, ...failingSince } = state.failingSince;
  const { [dep]: _last, ...lastFailure } = state.lastFailure;
  return { failingSince, lastFailure };
}

/**
 * New messages are taken only while every system a notice needs answers,
 * or has not been seen failing for QUIET_REOPEN_MS.
 */
export function mayReceive(state: GateState, nowMs: number): boolean {
  return nowMs >= reopenAtMs(state);
}

/** When receiving resumes if nothing fails again (0: now). */
export function reopenAtMs(state: GateState): number {
  let at = 0;
  for (const dep of failing(state))
    at = Math.max(at, (state.lastFailure[dep] ?? 0) + QUIET_REOPEN_MS);
  return at;
}

export function failing(state: GateState): Dependency[] {
  return DEPENDENCIES.filter((d) => state.failingSince[d] !== undefined);
}

/** Kubernetes failure kinds (src/kube/api-error.ts) that mean "the API is unavailable". */
const KUBE_OUTAGE_KINDS: ReadonlySet<unknown> = new Set(["network", "server", "too-many-requests"]);

/** AWS error names that mean "slow down", whatever the status code. */
const AWS_THROTTLE_NAMES: ReadonlySet<unknown> = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "SlowDown",
  "RequestTimeout",
  "RequestTimeoutException",
  "ServiceUnavailable",
  "InternalError",
  "InternalFailure",
]);

/** A network-level failure: no answer at all (refused, reset, timed out, aborted by a timeout). */
function isNetworkFailure(err: Error): boolean {
  return (
    err.name === "TimeoutError" ||
    err.name === "AbortError" ||
    ("code" in err && typeof err.code === "string" && /^(E[A-Z]+|UND_ERR)/.test(err.code))
  );
}

/** Is this AWS SDK error (possibly wrapped) a sign that the service is unavailable? */
export function isAwsOutage(err: unknown): boolean {
  const inner = err instanceof NthdError && err.cause !== undefined ? err.cause : err;
  if (!(inner instanceof Error)) return false;
  if (err instanceof NthdError && err.code === "AWS_PERMISSION") return false;
  const meta = (inner as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const fault = (inner as { $fault?: unknown }).$fault;
  const status = meta?.httpStatusCode;
  if (AWS_THROTTLE_NAMES.has(inner.name)) return true;
  if (status !== undefined) return status === 429 || status >= 500;
  if (fault === "server") return true;
  return isNetworkFailure(inner);
}

/**
 * Which system a failure to record a notice on its node says is down, if
 * any: "kube" when the drain engine's error (an NthdError KUBE_API) was an
 * unavailable API server (no answer, 5xx, 429, timeout).
 */
export function kubeOutage(err: unknown): boolean {
  if (!(err instanceof NthdError)) return false;
  if (err.code !== "KUBE_API") return false;
  return KUBE_OUTAGE_KINDS.has(err.context.kind);
}

/** The longest wait between two tries of a held message. */
export const HOLD_RETRY_CAP_MS = 30_000;

/**
 * Wait before the `attempt`-th retry of a held message: 1 s doubling to
 * 30 s, with jitter (half fixed, half random) so held messages of many
 * replicas do not all retry together. Before the notice's deadline the wait
 * is at most half the time left, so a short outage still leaves time to act;
 * the held message is also woken at once when the system answers again.
 * `random` is in [0, 1).
 */
export function holdRetryDelayMs(
  attempt: number,
  msToDeadline: number | undefined,
  random: number,
): number {
  const backoff = Math.min(HOLD_RETRY_CAP_MS, 1000 * 2 ** Math.max(0, attempt - 1));
  const beforeDeadline =
    msToDeadline !== undefined && msToDeadline > 0 ? Math.max(1000, msToDeadline / 2) : Infinity;
  const ceiling = Math.min(backoff, beforeDeadline);
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

/**
 * Whether a message may be held longer. Held past `maxHoldMs` since it was
 * received it is left for redelivery (the old behaviour, a bounded number
 * of times); `maxHoldMs` 0 never holds.
 */
export function mayHold(receivedAtMs: number, nowMs: number, maxHoldMs: number): boolean {
  return maxHoldMs > 0 && nowMs - receivedAtMs < maxHoldMs;
}
