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
  /**
   * The source must finish this notice after its work is over (an Auto
   * Scaling terminate lifecycle action to complete). The notice, detail
   * included, is kept in the node's record; whichever replica owns the
   * node's work hands it to its source as a `NoticeDuty`, and the record
   * keeps whether it was finished, so it is finished once.
   */
  readonly needsCompletion?: boolean;
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
  /**
   * Only for a notice that `needsCompletion`: `completed` once the node's
   * record says it was finished (by this replica or another), so a message
   * that carried it may go; `open` when it was not, so the message stays
   * for another try.
   */
  readonly completion?: "completed" | "open";
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

/**
 * A notice that needs completion, handed by the engine to the notice's
 * source once this replica owns the node's work: because it started it,
 * adopted it from a replica that went away, or found the notice joined to
 * its record by another replica. The notice comes from the node's record,
 * so a lost or expired message strands nothing.
 */
export interface NoticeDuty {
  readonly notice: Notice;
  readonly nodeName: string;
  /** The node's work is over; says whether the notice may now be completed. Never rejects. */
  readonly done: Promise<NoticeOutcome>;
  /**
   * Aborts when this replica stops owning the work (shutdown, or another
   * replica took it over): stop keeping it alive and complete nothing.
   */
  readonly signal: AbortSignal;
}

/**
 * How a duty ended: `completed`, `gone` (the other side no longer knew it:
 * nothing left to do either) or `open` (not finished; tried again later).
 * The engine records the first two on the node before it tells anyone.
 */
export type DutyResult = "completed" | "gone" | "open";

/** Where the engine hands duties: the source that can finish them. */
export type DutyHandler = (duty: NoticeDuty) => Promise<DutyResult>;

/** "spot-interruption" → "SpotInterruption" (Kubernetes Event reason). */
export function kindReason(kind: NoticeKind): string {
  return kind.replace(/(^|-)([a-z])/g, (_m, _dash, ch: string) => ch.toUpperCase());
}
