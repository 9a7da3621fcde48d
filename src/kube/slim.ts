/**
 * What nthd keeps of the Nodes and Pods the API server sends: only the
 * fields the drain engine and the node index read, copied out of each object
 * as it arrives (a list page, a watch event, a read, a patch's answer), the
 * way client-go informers' transform functions do. A real node carries its
 * image list, managed fields, addresses and capacities, often 10-40 KiB of
 * JSON; queue mode holds every node of the cluster, so those would make its
 * memory grow with the cluster for nothing. Pure.
 *
 * The copies are views for reading and for building merge patches, never
 * objects to write back whole: a PUT of one would erase what was left out.
 *
 * Kept from a Node: name, uid, resourceVersion, labels (node state, the
 * load-balancer exclusion, the capacity pool), nthd's record annotation,
 * spec.providerID/unschedulable/taints and the Ready condition.
 * Kept from a Pod: what the planner's filters, the eviction and the pod
 * tracker read (see src/drain/filters.ts and planner.ts).
 * Kept from a PodDisruptionBudget: name, namespace, selector and
 * disruptionsAllowed (the planner's ordering).
 */
import type {
  V1Node,
  V1NodeCondition,
  V1Pod,
  V1PodDisruptionBudget,
  V1Volume,
} from "@kubernetes/client-node";

/** The node annotation nthd reads (its record); the drain engine names it too. */
const KEPT_NODE_ANNOTATIONS = ["nthd/record"] as const;
/** The pod annotation the filters read: a static pod's API mirror. */
const KEPT_POD_ANNOTATIONS = ["kubernetes.io/config.mirror"] as const;
/** Node conditions anything reads: readiness, for lifecycle launch hooks. */
const KEPT_CONDITIONS = new Set(["Ready"]);

function pick<T extends object>(from: T | undefined, keys: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  if (from === undefined || from === null) return out;
  for (const key of keys) {
    const value = from[key];
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

function someAnnotations(
  annotations: Record<string, string> | undefined,
  keys: readonly string[],
): { annotations?: Record<string, string> } {
  if (annotations === undefined || annotations === null) return {};
  let kept: Record<string, string> | undefined;
  for (const key of keys) {
    const value = annotations[key];
    if (value === undefined) continue;
    kept ??= {};
    kept[key] = value;
  }
  return kept ? { annotations: kept } : {};
}

/** The fields of a Node nthd reads, copied; anything else is dropped. */
export function slimNode(node: V1Node): V1Node {
  const m = node.metadata;
  const conditions = node.status?.conditions?.filter((c: V1NodeCondition) =>
    KEPT_CONDITIONS.has(c.type),
  );
  return {
    metadata: {
      ...pick(m, ["name", "uid", "resourceVersion", "labels", "deletionTimestamp"]),
      ...someAnnotations(m?.annotations, KEPT_NODE_ANNOTATIONS),
    },
    spec: pick(node.spec, ["providerID", "unschedulable", "taints"]),
    ...(conditions && conditions.length > 0
      ? { status: { conditions: conditions.map((c) => ({ type: c.type, status: c.status })) } }
      : {}),
  };
}

/** Volumes matter only as "is there an emptyDir" (and its name for the reason). */
function slimVolumes(volumes: V1Volume[] | undefined): { volumes?: V1Volume[] } {
  const local = volumes?.filter((v) => v.emptyDir !== undefined && v.emptyDir !== null);
  return local && local.length > 0
    ? { volumes: local.map((v) => ({ name: v.name, emptyDir: {} })) }
    : {};
}

/** The fields of a Pod nthd reads, copied; anything else is dropped. */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata;
  const controller = m?.ownerReferences?.find((r) => r.controller === true);
  const phase = pod.status?.phase;
  return {
    metadata: {
      ...pick(m, ["name", "namespace", "uid", "resourceVersion", "labels", "deletionTimestamp"]),
      ...someAnnotations(m?.annotations, KEPT_POD_ANNOTATIONS),
      ...(controller
        ? {
            ownerReferences: [
              {
                apiVersion: controller.apiVersion,
                kind: controller.kind,
                name: controller.name,
                uid: controller.uid,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      ...pick(pod.spec, ["nodeName", "priority", "terminationGracePeriodSeconds"]),
      ...slimVolumes(pod.spec?.volumes),
    } as V1Pod["spec"],
    ...(phase !== undefined ? { status: { phase } } : {}),
  };
}

/** The fields of a PodDisruptionBudget the planner reads, copied. */
export function slimPdb(pdb: V1PodDisruptionBudget): V1PodDisruptionBudget {
  const allowed = pdb.status?.disruptionsAllowed;
  return {
    metadata: pick(pdb.metadata, ["name", "namespace", "uid"]),
    spec: pick(pdb.spec, ["selector"]),
    ...(allowed !== undefined
      ? { status: { disruptionsAllowed: allowed } as V1PodDisruptionBudget["status"] }
      : {}),
  };
}
