/**
 * The contract between sources (IMDS, SQS) and the drain engine.
 * Sources know AWS and nothing about pods; the engine knows Kubernetes and
 * nothing about where a notice came from.
 */

/** Every kind of notice nthd understands. The same strings are metric label
 * values and log fields; in PascalCase they are Kubernetes Event reasons. */
export const NOTICE_KINDS = [
  "spot-interruption",
  "rebalance-recommendation",
  "scheduled-maintenance",
  "asg-terminate",
  "asg-launch",
  "instance-state-change",
  "health-scheduled-change",
  "capacity-reservation-interruption",
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const NOTICE_ACTIONS = ["drain", "cordon", "uncordon", "complete-launch"] as const;
export type NoticeAction = (typeof NOTICE_ACTIONS)[number];

export const NOTICE_SOURCES = ["imds", "queue"] as const;
export type NoticeSource = (typeof NOTICE_SOURCES)[number];

export interface Notice {
  /** Stable across redeliveries of the same AWS event: the dedupe key. */
  readonly id: string;
  readonly kind: NoticeKind;
  /** One notice per instance; an event naming several instances fans out. */
  readonly instanceId: string;
  readonly action: NoticeAction;
  /** When the instance is expected to go away (or the maintenance to start). */
  readonly deadline?: Date;
  /** When AWS says the event happened (event `time`), if it says. */
  readonly eventTime?: Date;
  readonly receivedAt: Date;
  readonly source: NoticeSource;
  /** Kind-specific facts for logs, Kubernetes Events and webhooks. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The outcome a source is told, so it knows how to acknowledge. */
export type NoticeOutcome =
  | { readonly result: "handled" }
  | { readonly result: "ignored"; readonly reason: string }
  | { readonly result: "retry"; readonly reason: string };

/** "spot-interruption" → "SpotInterruption" (Kubernetes Event reason). */
export function kindReason(kind: NoticeKind): string {
  return kind.replace(/(^|-)([a-z])/g, (_m, _dash, ch: string) => ch.toUpperCase());
}
