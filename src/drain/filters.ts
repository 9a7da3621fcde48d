/**
 * Pod filters: an ordered list of small predicates, each returning "keep" or
 * "skip" with a reason. Like kubectl drain, a reason names the setting that
 * would change the verdict, so a drain report answers "why is this pod still
 * here?" on its own.
 */
import type { V1Pod } from "@kubernetes/client-node";

export const SKIP_CODES = [
  "mirror",
  "completed",
  "terminating",
  "self",
  "daemonset",
  "unmanaged",
  "local-storage",
  "multiple-pdbs",
] as const;
export type SkipCode = (typeof SKIP_CODES)[number];

export type Verdict =
  | { readonly keep: true }
  | { readonly keep: false; readonly code: SkipCode; readonly reason: string };

export interface FilterSettings {
  readonly ignoreDaemonSets: boolean;
  readonly deleteLocalData: boolean;
  readonly evictUnmanagedPods: boolean;
  /** nthd's own pod, never evicted by itself ("" when unknown). */
  readonly podName: string;
  readonly podNamespace: string;
}

export type PodFilter = (pod: V1Pod, settings: FilterSettings) => Verdict;

const KEEP: Verdict = { keep: true };
const skip = (code: SkipCode, reason: string): Verdict => ({ keep: false, code, reason });

/** The kubelet's annotation on the API mirror of a static pod. */
export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

export function controllerOf(pod: V1Pod): { kind: string; name: string } | undefined {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

export function isDaemonSetPod(pod: V1Pod): boolean {
  return controllerOf(pod)?.kind === "DaemonSet";
}

const mirror: PodFilter = (pod) =>
  pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined
    ? skip("mirror", "static pod (mirror of a kubelet manifest): the Eviction API cannot remove it")
    : KEEP;

// Finished pods hold no resources and are not restarted; nothing to move.
const completed: PodFilter = (pod) => {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed"
    ? skip("completed", `completed (phase ${phase}): nothing left to stop`)
    : KEEP;
};

const terminating: PodFilter = (pod) =>
  pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null
    ? skip("terminating", "already terminating (deletion requested before this drain)")
    : KEEP;

const self: PodFilter = (pod, s) =>
  s.podName !== "" && pod.metadata?.name === s.podName && pod.metadata?.namespace === s.podNamespace
    ? skip("self", "this nthd pod: evicting it would stop the drain it runs")
    : KEEP;

const daemonSet: PodFilter = (pod, s) => {
  const owner = controllerOf(pod);
  if (owner?.kind !== "DaemonSet" || !s.ignoreDaemonSets) return KEEP;
  return skip(
    "daemonset",
    `managed by DaemonSet ${owner.name}, which would recreate it on this node (ignore-daemon-sets=true)`,
  );
};

const unmanaged: PodFilter = (pod, s) =>
  controllerOf(pod) === undefined && !s.evictUnmanagedPods
    ? skip(
        "unmanaged",
        "not managed by a controller, so nothing would recreate it (evict-unmanaged-pods=false)",
      )
    : KEEP;

const localStorage: PodFilter = (pod, s) => {
  if (s.deleteLocalData) return KEEP;
  const volume = pod.spec?.volumes?.find((v) => v.emptyDir !== undefined && v.emptyDir !== null);
  return volume
    ? skip(
        "local-storage",
        `uses emptyDir volume ${volume.name}, whose data eviction would lose (delete-local-data=false)`,
      )
    : KEEP;
};

/** Order matters: the first skip wins, and the most fundamental reasons come first. */
export const POD_FILTERS: readonly PodFilter[] = [
  mirror,
  completed,
  terminating,
  self,
  daemonSet,
  unmanaged,
  localStorage,
];

export function filterPod(pod: V1Pod, settings: FilterSettings): Verdict {
  for (const filter of POD_FILTERS) {
    const verdict = filter(pod, settings);
    if (!verdict.keep) return verdict;
  }
  return KEEP;
}
