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

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/**
 * Parses the label selector text kubectl's `-l` takes (`a=b,c!=d,e in (f,g),
 * h notin (i),j,!k`) into a V1LabelSelector, or an error naming the bad
 * term. Set-based terms may contain commas inside their parentheses.
 */
export function parseLabelSelector(
  text: string,
): { ok: true; selector: V1LabelSelector } | { ok: false; message: string } {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<V1LabelSelector["matchExpressions"]> = [];
  const terms = splitTerms(text.trim());
  if (terms === undefined) return { ok: false, message: `unbalanced parentheses in "${text}"` };
  for (const raw of terms) {
    const term = raw.trim();
    if (term === "") return { ok: false, message: `empty term in "${text}"` };
    const bad = (why: string) => ({ ok: false as const, message: `"${term}": ${why}` });
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (set) {
      const [, key, op, list] = set as unknown as [string, string, string, string];
      const values = list.split(",").map((v) => v.trim());
      if (!KEY.test(key)) return bad("invalid label key");
      if (values.some((v) => v === "" || !VALUE.test(v))) return bad("invalid value list");
      matchExpressions.push({ key, operator: op === "in" ? "In" : "NotIn", values });
      continue;
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (cmp) {
      const [, key, op, value] = cmp as unknown as [string, string, string, string];
      if (!KEY.test(key)) return bad("invalid label key");
      if (!VALUE.test(value)) return bad("invalid label value");
      if (op === "!=") matchExpressions.push({ key, operator: "NotIn", values: [value] });
      else if (matchLabels[key] !== undefined && matchLabels[key] !== value)
        return bad(`${key} already required to be ${matchLabels[key]}`);
      else matchLabels[key] = value;
      continue;
    }
    const exists = /^(!?)\s*(\S+)$/.exec(term);
    if (exists && KEY.test(exists[2] as string)) {
      const key = exists[2] as string;
      matchExpressions.push({ key, operator: exists[1] === "!" ? "DoesNotExist" : "Exists" });
      continue;
    }
    return bad("not a label selector term (key=value, key!=value, key in (a,b), key, !key)");
  }
  return { ok: true, selector: { matchLabels, matchExpressions } };
}

/** Splits on commas outside parentheses; undefined when they do not balance. */
function splitTerms(text: string): string[] | undefined {
  if (text === "") return [];
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return undefined;
    else if (c === "," && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  terms.push(text.slice(start));
  return terms;
}
