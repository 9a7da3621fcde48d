/**
 * Label selector matching for PodDisruptionBudgets, following
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors.
 * In policy/v1 an empty selector matches every pod of the namespace and a
 * missing one matches none.
 */
import type { V1LabelSelector, V1PodDisruptionBudget } from "@kubernetes/client-node";

export function selectorMatches(
  selector: V1LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined || selector === null) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expr.key);
    const value = labels[expr.key];
    const values = expr.values ?? [];
    switch (expr.operator) {
      case "In":
        if (!has || !values.includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && values.includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        // An operator this code does not know cannot be evaluated: no match,
        // like the API server which rejects such selectors.
        return false;
    }
  }
  return true;
}

/** The PDBs of the pod's namespace whose selector matches the pod's labels. */
export function pdbsForPod(
  pod: { namespace: string; labels: Readonly<Record<string, string>> },
  pdbs: readonly V1PodDisruptionBudget[],
): V1PodDisruptionBudget[] {
  return pdbs.filter(
    (pdb) =>
      pdb.metadata?.namespace === pod.namespace && selectorMatches(pdb.spec?.selector, pod.labels),
  );
}
