/**
 * The workload a pod belongs to, as an operator names it (Deployment
 * shop/checkout rather than ReplicaSet shop/checkout-7d9f8c), and how its
 * controller replaces an evicted pod. The drain audit uses both: the first to
 * name what to fix, the second to know when a PodDisruptionBudget frees up
 * again. Pure.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { controllerOf } from "./filters.ts";

export interface Workload {
  readonly namespace: string;
  /** Controller kind (`Deployment` for a ReplicaSet made by one), or `Pod` for a bare pod. */
  readonly kind: string;
  readonly name: string;
}

/**
 * When the replacement of an evicted pod exists:
 * - `at-once`: the controller counts only pods not being deleted, so it
 *   creates a replacement as soon as the eviction is accepted (ReplicaSet,
 *   ReplicationController, Job);
 * - `after-gone`: a StatefulSet recreates a pod under the same name only once
 *   the old one is gone; unknown controllers are assumed to behave so too;
 * - `never`: nothing recreates a bare pod, and a DaemonSet pod belongs to its node.
 */
export type Replacement = "at-once" | "after-gone" | "never";

/** Label the Deployment controller puts on its ReplicaSets' pods: the ReplicaSet is `<deployment>-<hash>`. */
const TEMPLATE_HASH = "pod-template-hash";

export function workloadOf(pod: V1Pod): Workload {
  const namespace = pod.metadata?.namespace ?? "";
  const owner = controllerOf(pod);
  if (owner === undefined) return { namespace, kind: "Pod", name: pod.metadata?.name ?? "" };
  const hash = pod.metadata?.labels?.[TEMPLATE_HASH];
  if (owner.kind === "ReplicaSet" && hash && owner.name.endsWith(`-${hash}`)) {
    return { namespace, kind: "Deployment", name: owner.name.slice(0, -(hash.length + 1)) };
  }
  return { namespace, kind: owner.kind, name: owner.name };
}

export function workloadKey(w: Workload): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

const AT_ONCE: ReadonlySet<string> = new Set([
  "Deployment",
  "ReplicaSet",
  "ReplicationController",
  "Job",
]);

export function replacementOf(w: Workload): Replacement {
  if (w.kind === "Pod" || w.kind === "DaemonSet") return "never";
  return AT_ONCE.has(w.kind) ? "at-once" : "after-gone";
}

/**
 * Seconds the pod took from creation to Ready, from its own status, or
 * undefined when that is not known or not believable (readiness that flapped
 * later, clocks apart). The audit uses the median of a workload's pods as the
 * time a replacement needs to start.
 */
export function startupSecondsOf(pod: V1Pod): number | undefined {
  const created = toMs(pod.metadata?.creationTimestamp);
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
  const readyAt = toMs(ready?.lastTransitionTime);
  if (created === undefined || readyAt === undefined) return undefined;
  const seconds = (readyAt - created) / 1000;
  return seconds >= 0 && seconds <= MAX_BELIEVABLE_STARTUP_SECONDS ? seconds : undefined;
}

const MAX_BELIEVABLE_STARTUP_SECONDS = 600;

function toMs(value: Date | string | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
