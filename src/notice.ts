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

/**
 * What a source is told about a notice it handed over, so it knows how to
 * acknowledge: delete the message or keep polling (`handled`, `ignored`), or
 * leave it for a later try (`retry`).
 */
export type NoticeResult = "handled" | "ignored" | "retry";

export interface NoticeOutcome {
  readonly result: NoticeResult;
  /**
   * An Auto Scaling lifecycle action waiting on this instance may now be
   * completed: the pods are gone, the deadline passed, or there was nothing
   * to drain. Never after a failed or cancelled drain.
   */
  readonly mayCompleteLifecycleAction: boolean;
  /** One line for logs: what was done, or why not. */
  readonly summary: string;
  /** The deadline the work ran against, when there was one. */
  readonly deadline?: Date;
}

/** The handler's receipt for one notice on one node. */
export interface NoticeReceipt {
  /**
   * The notice is durable on the node (cordon and nthd's record, or the
   * scheduled record): a queue message may be deleted, a metadata event need
   * not be handed over again. Rejects when that failed: retry later.
   */
  readonly recorded: Promise<void>;
  /** The work the notice started or joined is over. Never rejects. */
  readonly done: Promise<NoticeOutcome>;
}

/** The one entry point from a source into the drain engine. */
export type NoticeHandler = (notice: Notice, nodeName: string) => NoticeReceipt;

/** "spot-interruption" → "SpotInterruption" (Kubernetes Event reason). */
export function kindReason(kind: NoticeKind): string {
  return kind.replace(/(^|-)([a-z])/g, (_m, _dash, ch: string) => ch.toUpperCase());
}
