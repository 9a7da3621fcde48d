/**
 * What the drain engine's steps share: the clients, settings and helpers
 * every step needs, and the state of one node's work.
 */
import type { V1Node, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Config } from "../config/index.ts";
import type { KubeClient } from "../kube/client.ts";
import type { DutyHandler, Notice, NoticeKind } from "../notice.ts";
import type { Announcer } from "./announce.ts";
import type { Deadline } from "./deadline.ts";
import type { DrainEvents } from "./events.ts";
import type { PlanSettings } from "./planner.ts";
import type { EngineAction } from "./policy.ts";
import type { NodeRecord } from "./record.ts";
import { type DrainReport, type DrainResult, type PodOutcome, summarize } from "./report.ts";

export interface EngineContext {
  readonly kube: KubeClient;
  readonly config: Config;
  readonly clock: () => Date;
  readonly log: Logger;
  readonly events: DrainEvents;
  /** Metrics, Events, logs and webhooks for each step and outcome. */
  readonly announce: Announcer;
  readonly planSettings: PlanSettings;
  /**
   * The cluster's PodDisruptionBudgets, one list shared by the drains that
   * start within a few seconds of each other (src/async/shared-read.ts).
   */
  readonly pdbs: (signal?: AbortSignal) => Promise<V1PodDisruptionBudget[]>;
  /** The Node informer's copies, when the mode keeps one (queue mode). */
  nodeCache?: NodeCache;
  /** The replicas sharing the work (queue mode); absent, every record is this process's. */
  replicas?: Replicas;
  /** Where notices that need completion go once this replica owns them. */
  duties?: DutyHandler;
}

/** Read access to an informer's cached nodes. */
export interface NodeCache {
  byName(name: string): V1Node | undefined;
  /** Every cached node (a snapshot). */
  nodes?(): V1Node[];
  /** Called with a node's name whenever the informer sees it change. */
  onChange?(listener: (name: string) => void): void;
}

/** The replicas sharing a queue, as the engine needs to know them (src/drain/replicas.ts). */
export interface Replicas {
  /** What node records name as their owner: this replica's queue digest and Lease name (ownerId). */
  readonly me: string;
  /** The owner's Lease is alive now. */
  alive(owner: string): boolean;
  /** Replicas sharing the queue alive now, this one included. */
  live(): number;
  /**
   * This replica's own Lease stands and its view of the others' is live;
   * otherwise it adopts nothing (every owner counts as alive meanwhile).
   */
  holding(): boolean;
  /** How often to look for work whose owner went away: the Lease's renew period. */
  readonly periodMs: number;
  /** Called whenever a Lease changes (renewed, taken, deleted). */
  onChange(listener: () => void): void;
}

export function planSettingsOf(config: Config): PlanSettings {
  return {
    ignoreDaemonSets: config.ignoreDaemonSets,
    deleteLocalData: config.deleteLocalData,
    evictUnmanagedPods: config.evictUnmanagedPods,
    podName: config.podName,
    podNamespace: config.podNamespace,
    podTerminationGracePeriodSeconds: config.podTerminationGracePeriodSeconds,
    deadlineSafetyMarginSeconds: config.deadlineSafetyMarginSeconds,
  };
}

/** One node's work: a cordon or a drain, with every notice that joined it. */
export interface Work {
  readonly nodeName: string;
  readonly notice: Notice;
  /** A scheduled cordon becomes a drain when a drain notice joins before it starts. */
  action: "drain" | "cordon";
  readonly ids: Set<string>;
  /** Kinds of every notice in the work (a cancel must match them all). */
  readonly kinds: Set<NoticeKind>;
  readonly joined: string[];
  readonly cancel: AbortController;
  readonly startedAt: Date;
  /** Resumed from the node's record (after a restart, or taken over from a replica that went). */
  resumed: boolean;
  /**
   * The live replica that owns the node's work while this one only follows
   * it through the record; undefined when this replica owns it (or has not
   * claimed it yet).
   */
  following: string | undefined;
  /** This replica wrote or took the record as the work's owner. */
  owned: boolean;
  /**
   * The node's resourceVersion after that write: older copies of the node
   * (an informer event still on its way) say nothing about the work.
   */
  claimedVersion: string | undefined;
  deadlineAt: Date;
  deadline: Deadline | undefined;
  record: NodeRecord | undefined;
  /**
   * Scheduled work: when the cordon and drain start. A joining notice may
   * bring it forward while `waiting`.
   */
  drainAt: Date | undefined;
  /** Scheduled work that has not started its cordon yet. */
  waiting: boolean;
  /** Set during the wait: re-reads `drainAt` (brought forward, say). */
  wake: (() => void) | undefined;
  /** The notice is durable on the node (for scheduled work: the scheduled record). */
  recorded: Promise<void>;
  /** The node is cordoned and recorded; the same as `recorded` unless scheduled. */
  marked: Promise<void>;
  done: Promise<DrainReport>;
}

export type ReportBase = Pick<Work, "nodeName" | "notice" | "joined" | "startedAt" | "resumed">;

export function makeReport(
  ctx: Pick<EngineContext, "clock">,
  w: ReportBase,
  action: EngineAction,
  result: DrainResult,
  extra: { pods?: PodOutcome[]; message?: string; deadline?: Date } = {},
): DrainReport {
  const pods = extra.pods ?? [];
  return {
    nodeName: w.nodeName,
    noticeId: w.notice.id,
    joined: [...w.joined],
    kind: w.notice.kind,
    action,
    result,
    startedAt: w.startedAt,
    finishedAt: ctx.clock(),
    ...(extra.deadline ? { deadline: extra.deadline } : {}),
    pods,
    message: extra.message ?? summarize(result, pods, extra.deadline),
    resumed: w.resumed,
  };
}
