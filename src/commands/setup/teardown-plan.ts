/**
 * The pure teardown planner: what carries this cluster's tag is deleted,
 * everything else is listed as kept.
 */
import { GROUP_ADDED_TAG, hookName, MANAGED_TAG_KEY_TAG, OWNER_TAG, parseAdded } from "./names.ts";
import { type Action, leave, type Plan, type Step } from "./plan.ts";
import { groupAdded, groupOwnedBy, type ObservedState, ownedBy } from "./state.ts";

/**
 * Teardown: delete what carries this cluster's tag, in dependency order
 * (rules before the queue they target, the main queue before its DLQ);
 * leave everything else and say why.
 */
export function planTeardown(cluster: string, observed: ObservedState): Plan {
  const actions: Action[] = [];
  for (const rule of observed.rules) {
    if (!ownedBy(rule.tags, cluster)) {
      actions.push(leave("rule", rule.name, "kept", rule.tags, cluster));
      continue;
    }
    const ids = rule.targets.map((t) => t.id);
    actions.push({
      op: "delete",
      type: "rule",
      name: rule.name,
      reason: `tagged ${OWNER_TAG}=${cluster}`,
      steps: [
        ...(ids.length > 0 ? [{ type: "remove-targets", rule: rule.name, ids } as const] : []),
        { type: "delete-rule", name: rule.name },
      ],
    });
  }
  for (const group of observed.groups) {
    if (!groupOwnedBy(group, cluster)) continue;
    const added = parseAdded(groupAdded(group));
    const steps: Step[] = [];
    const hook = hookName(group.name);
    if (added.has("lifecycle-hook") && group.hooks.some((h) => h.name === hook)) {
      steps.push({ type: "delete-hook", group: group.name, hook });
    }
    const managedKey = group.tags[MANAGED_TAG_KEY_TAG]?.value;
    const keys = [OWNER_TAG, GROUP_ADDED_TAG, MANAGED_TAG_KEY_TAG, managedKey]
      .filter((k): k is string => k !== undefined && k in group.tags)
      .filter((k) => k !== managedKey || added.has("managed-tag"));
    steps.push({ type: "delete-group-tags", group: group.name, keys });
    actions.push({
      op: "delete",
      type: "group-tags",
      name: group.name,
      reason: `remove what setup added: ${[...added].join(", ") || "nothing but its tags"}`,
      steps,
    });
  }
  for (const [type, queue] of [
    ["queue", observed.queue],
    ["dead-letter-queue", observed.deadLetterQueue],
  ] as const) {
    if (queue === undefined) continue;
    actions.push(
      ownedBy(queue.tags, cluster)
        ? {
            op: "delete",
            type,
            name: queue.name,
            reason: `tagged ${OWNER_TAG}=${cluster}`,
            steps: [{ type: "delete-queue", name: queue.name, url: queue.url }],
          }
        : leave(type, queue.name, "kept", queue.tags, cluster),
    );
  }
  return { actions, problems: [] };
}
