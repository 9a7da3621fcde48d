/**
 * The drain planner: pure. Given the pods on a node, the PodDisruptionBudgets,
 * the deadline and the settings, it decides which pods to evict, in which
 * order and with which grace period, and which to leave and why.
 *
 * Order: pods are grouped in waves. DaemonSet pods (only evicted when
 * ignore-daemon-sets=false) come last because they often provide node
 * services the other pods use while they stop; otherwise lower priority
 * first. Within a wave, pods whose PDB has the most headroom go first (no PDB
 * counts as unlimited), then by namespace/name so plans are reproducible.
 */
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { type FilterSettings, filterPod, isDaemonSetPod, type SkipCode } from "./filters.ts";
import { pdbsForPod } from "./selector.ts";

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface PlanSettings extends FilterSettings {
  /** -1: the pod's own terminationGracePeriodSeconds; otherwise this value for every pod. */
  readonly podTerminationGracePeriodSeconds: number;
  readonly deadlineSafetyMarginSeconds: number;
}

export interface PlannedEviction {
  readonly pod: PodRef;
  readonly wave: number;
  readonly priority: number;
  readonly daemonSet: boolean;
  readonly gracePeriodSeconds: number;
  /** Why this grace period: "pod", "setting" or "deadline" (capped to the time left). */
  readonly graceFrom: GraceSource;
  /** "namespace/name" of the PDB covering the pod, if any. */
  readonly pdb?: string;
  /** disruptionsAllowed of that PDB when planned; null without PDB. */
  readonly headroom: number | null;
}

export interface SkippedPod {
  readonly pod: PodRef;
  readonly code: SkipCode;
  readonly reason: string;
}

export interface DrainPlan {
  readonly evictions: readonly PlannedEviction[];
  readonly skipped: readonly SkippedPod[];
  readonly waves: number;
  readonly deadline: Date;
}

export interface PlanInput {
  readonly pods: readonly V1Pod[];
  readonly pdbs: readonly V1PodDisruptionBudget[];
  readonly now: Date;
  readonly deadline: Date;
  readonly settings: PlanSettings;
}

/** Kubernetes' default when a pod does not set terminationGracePeriodSeconds. */
export const DEFAULT_POD_GRACE_SECONDS = 30;

export type GraceSource = "pod" | "setting" | "deadline";

/**
 * Grace period for one eviction: the pod's own (or the setting when >= 0),
 * capped so the pod is gone a safety margin before the deadline. Never below
 * 1 s: 0 would ask for an immediate, unclean kill. Also used on each retry so
 * a pod evicted late gets only the time that is left.
 */
export function gracePeriodFor(
  podOwnSeconds: number | undefined,
  settings: Pick<PlanSettings, "podTerminationGracePeriodSeconds" | "deadlineSafetyMarginSeconds">,
  now: Date,
  deadline: Date,
): { seconds: number; from: GraceSource } {
  const fromSetting = settings.podTerminationGracePeriodSeconds >= 0;
  const wanted = fromSetting
    ? settings.podTerminationGracePeriodSeconds
    : (podOwnSeconds ?? DEFAULT_POD_GRACE_SECONDS);
  const left =
    Math.floor((deadline.getTime() - now.getTime()) / 1000) - settings.deadlineSafetyMarginSeconds;
  if (wanted > left) return { seconds: Math.max(1, left), from: "deadline" };
  return { seconds: wanted, from: fromSetting ? "setting" : "pod" };
}

export function podRef(pod: V1Pod): PodRef {
  const ref = { namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "" };
  const uid = pod.metadata?.uid;
  return uid ? { ...ref, uid } : ref;
}

export function podKey(ref: PodRef): string {
  return `${ref.namespace}/${ref.name}`;
}

function pdbKey(pdb: V1PodDisruptionBudget): string {
  return `${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""}`;
}

export function planDrain(input: PlanInput): DrainPlan {
  const { settings, now, deadline } = input;
  const skipped: SkippedPod[] = [];
  const candidates: Omit<PlannedEviction, "wave">[] = [];

  for (const pod of input.pods) {
    const ref = podRef(pod);
    const verdict = filterPod(pod, settings);
    if (!verdict.keep) {
      skipped.push({ pod: ref, code: verdict.code, reason: verdict.reason });
      continue;
    }
    const covering = pdbsForPod(
      { namespace: ref.namespace, labels: pod.metadata?.labels ?? {} },
      input.pdbs,
    );
    if (covering.length > 1) {
      // The Eviction API answers 500 for such pods; say so up front.
      skipped.push({
        pod: ref,
        code: "multiple-pdbs",
        reason: `covered by several PodDisruptionBudgets (${covering.map(pdbKey).join(", ")}), which the Eviction API refuses`,
      });
      continue;
    }
    const pdb = covering[0];
    const grace = gracePeriodFor(pod.spec?.terminationGracePeriodSeconds, settings, now, deadline);
    candidates.push({
      pod: ref,
      priority: pod.spec?.priority ?? 0,
      daemonSet: isDaemonSetPod(pod),
      gracePeriodSeconds: grace.seconds,
      graceFrom: grace.from,
      ...(pdb ? { pdb: pdbKey(pdb) } : {}),
      headroom: pdb ? (pdb.status?.disruptionsAllowed ?? 0) : null,
    });
  }

  candidates.sort(compareEvictions);
  const evictions: PlannedEviction[] = [];
  let wave = -1;
  let previous: Omit<PlannedEviction, "wave"> | undefined;
  for (const c of candidates) {
    if (!previous || previous.daemonSet !== c.daemonSet || previous.priority !== c.priority) wave++;
    evictions.push({ ...c, wave });
    previous = c;
  }
  return { evictions, skipped, waves: wave + 1, deadline };
}

function compareEvictions(
  a: Omit<PlannedEviction, "wave">,
  b: Omit<PlannedEviction, "wave">,
): number {
  if (a.daemonSet !== b.daemonSet) return a.daemonSet ? 1 : -1;
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ha = a.headroom ?? Number.POSITIVE_INFINITY;
  const hb = b.headroom ?? Number.POSITIVE_INFINITY;
  if (ha !== hb) return hb - ha;
  return podKey(a.pod).localeCompare(podKey(b.pod));
}
