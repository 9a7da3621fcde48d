/**
 * The pure planner: desired state against observed state gives an ordered
 * list of actions (create, update, leave, delete), each with the AWS steps
 * that carry it out and a reason a person can read. No I/O here.
 *
 * Ownership: setup tags what it creates (OWNER_TAG = cluster). Something
 * that already exists without the tag (a kOps installation) is adopted in
 * place: updated when it differs, never tagged, so teardown leaves it.
 */
import {
  GROUP_ADDED_TAG,
  type GroupAddition,
  HOOK_TRANSITION,
  MANAGED_TAG_KEY_TAG,
  OWNER_TAG,
  parseAdded,
  RULE_TARGET_ID,
} from "./names.ts";
import type { RuleSpec } from "./rules.ts";
import {
  type DesiredState,
  type GroupSpec,
  groupAdded,
  groupOwnedBy,
  type ObservedGroup,
  type ObservedQueue,
  type ObservedRule,
  type ObservedState,
  ownedBy,
  type QueueSpec,
} from "./state.ts";

export interface GroupTag {
  readonly key: string;
  readonly value: string;
  readonly propagateAtLaunch: boolean;
}

export type Step =
  | {
      type: "create-queue";
      name: string;
      attributes: Record<string, string>;
      tags: Record<string, string>;
    }
  | { type: "set-queue-attributes"; name: string; url: string; attributes: Record<string, string> }
  | { type: "delete-queue"; name: string; url: string }
  | {
      type: "put-rule";
      name: string;
      pattern: string;
      description: string;
      tags?: Record<string, string>;
    }
  | { type: "put-target"; rule: string; id: string; arn: string }
  | { type: "remove-targets"; rule: string; ids: string[] }
  | { type: "delete-rule"; name: string }
  | { type: "put-hook"; group: string; hook: string; heartbeatTimeoutSeconds: number }
  | { type: "delete-hook"; group: string; hook: string }
  | { type: "put-group-tags"; group: string; tags: GroupTag[] }
  | { type: "delete-group-tags"; group: string; keys: string[] };

export type ResourceType = "queue" | "dead-letter-queue" | "rule" | "lifecycle-hook" | "group-tags";

export interface Action {
  readonly op: "create" | "update" | "leave" | "delete";
  readonly type: ResourceType;
  readonly name: string;
  readonly reason: string;
  readonly steps: readonly Step[];
}

export interface Plan {
  readonly actions: readonly Action[];
  /** Things setup cannot fix (a named group that does not exist). */
  readonly problems: readonly string[];
}

export function planSetup(desired: DesiredState, observed: ObservedState): Plan {
  const actions: Action[] = [];
  if (desired.deadLetterQueue !== undefined) {
    actions.push(
      planQueue("dead-letter-queue", desired.deadLetterQueue, observed.deadLetterQueue, desired),
    );
  }
  actions.push(planQueue("queue", desired.queue, observed.queue, desired));
  const queueArn = observed.queue?.arn;
  for (const rule of desired.rules) {
    actions.push(
      planRule(
        rule,
        observed.rules.find((r) => r.name === rule.name),
        desired,
        queueArn,
      ),
    );
  }
  for (const group of desired.groups) {
    const found = observed.groups.find((g) => g.name === group.name);
    if (found !== undefined) actions.push(...planGroup(group, found, desired.cluster));
  }
  const problems = observed.missingGroups.map(
    (g) => `Auto Scaling group ${g} does not exist (--asg ${g})`,
  );
  return { actions, problems };
}

function planQueue(
  type: "queue" | "dead-letter-queue",
  spec: QueueSpec,
  found: ObservedQueue | undefined,
  desired: DesiredState,
): Action {
  if (found === undefined) {
    return {
      op: "create",
      type,
      name: spec.name,
      reason:
        spec.attributes.Policy === undefined
          ? "does not exist (its policy follows once its ARN is known)"
          : "does not exist",
      steps: [
        {
          type: "create-queue",
          name: spec.name,
          attributes: { ...spec.attributes },
          tags: { ...desired.ownerTags },
        },
      ],
    };
  }
  const changed = changedAttributes(spec.attributes, found.attributes);
  const keys = Object.keys(changed);
  if (keys.length === 0) return leave(type, spec.name, "up to date", found.tags, desired.cluster);
  return {
    op: "update",
    type,
    name: spec.name,
    reason: `${keys.join(", ")} ${keys.length === 1 ? "differs" : "differ"}${adopted(found.tags, desired.cluster)}`,
    steps: [{ type: "set-queue-attributes", name: spec.name, url: found.url, attributes: changed }],
  };
}

/** Attributes whose observed value differs from the wanted one. */
export function changedAttributes(
  want: Readonly<Record<string, string>>,
  have: Readonly<Record<string, string>>,
): Record<string, string> {
  const changed: Record<string, string> = {};
  for (const [key, value] of Object.entries(want)) {
    // A customer-managed KMS key is stronger than SQS-managed encryption: keep it.
    if (key === "SqsManagedSseEnabled" && (have.KmsMasterKeyId ?? "") !== "") continue;
    if (canonical(value) !== canonical(have[key])) changed[key] = value;
  }
  return changed;
}

function planRule(
  spec: RuleSpec,
  found: ObservedRule | undefined,
  desired: DesiredState,
  queueArn: string | undefined,
): Action {
  const pattern = JSON.stringify(spec.pattern);
  const arn = queueArn ?? `<arn of ${desired.queue.name}>`;
  const target = { type: "put-target", rule: spec.name, id: RULE_TARGET_ID, arn } as const;
  if (found === undefined) {
    return {
      op: "create",
      type: "rule",
      name: spec.name,
      reason: "does not exist",
      steps: [
        {
          type: "put-rule",
          name: spec.name,
          pattern,
          description: spec.description,
          tags: { ...desired.ownerTags },
        },
        target,
      ],
    };
  }
  const reasons: string[] = [];
  const steps: Step[] = [];
  if (canonical(found.pattern) !== canonical(pattern) || found.state !== "ENABLED") {
    if (canonical(found.pattern) !== canonical(pattern)) reasons.push("event pattern differs");
    if (found.state !== "ENABLED") reasons.push(`state is ${found.state ?? "unknown"}`);
    // PutRule replaces the rule; tags given here would be ignored by AWS anyway.
    steps.push({ type: "put-rule", name: spec.name, pattern, description: spec.description });
  }
  if (!found.targets.some((t) => t.arn === arn)) {
    reasons.push("does not target the queue");
    steps.push(target);
  }
  if (steps.length === 0)
    return leave("rule", spec.name, "up to date", found.tags, desired.cluster);
  return {
    op: "update",
    type: "rule",
    name: spec.name,
    reason: reasons.join("; ") + adopted(found.tags, desired.cluster),
    steps,
  };
}

function planGroup(spec: GroupSpec, found: ObservedGroup, cluster: string): Action[] {
  const actions: Action[] = [];
  const added = parseAdded(groupAdded(found));
  const newlyAdded = new Set<GroupAddition>(added);
  const hook = found.hooks.find((h) => h.name === spec.hookName);
  const hookLabel = `${spec.name}/${spec.hookName}`;
  const putHook = {
    type: "put-hook",
    group: spec.name,
    hook: spec.hookName,
    heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds,
  } as const;
  if (hook === undefined) {
    actions.push({
      op: "create",
      type: "lifecycle-hook",
      name: hookLabel,
      reason: "does not exist",
      steps: [putHook],
    });
    newlyAdded.add("lifecycle-hook");
  } else {
    const diffs: string[] = [];
    if (hook.transition !== HOOK_TRANSITION) diffs.push(`transition is ${hook.transition}`);
    if (hook.heartbeatTimeoutSeconds !== spec.heartbeatTimeoutSeconds) {
      diffs.push(`heartbeat timeout is ${hook.heartbeatTimeoutSeconds ?? "unset"} s`);
    }
    if (hook.defaultResult !== "CONTINUE") diffs.push(`default result is ${hook.defaultResult}`);
    const mine = added.has("lifecycle-hook") ? "" : " (not created by nthd; teardown keeps it)";
    actions.push(
      diffs.length === 0
        ? {
            op: "leave",
            type: "lifecycle-hook",
            name: hookLabel,
            reason: `up to date${mine}`,
            steps: [],
          }
        : {
            op: "update",
            type: "lifecycle-hook",
            name: hookLabel,
            reason: diffs.join("; ") + mine,
            steps: [putHook],
          },
    );
  }
  const tags: GroupTag[] = [];
  const managed = found.tags[spec.managedTag];
  if (managed === undefined || !managed.propagateAtLaunch) {
    // Propagated so new instances carry it: CHECK_TAG_BEFORE_DRAINING reads the instance's tags.
    tags.push({ key: spec.managedTag, value: managed?.value ?? "true", propagateAtLaunch: true });
    if (managed === undefined) newlyAdded.add("managed-tag");
  }
  const addedValue = [...newlyAdded].sort().join(" ");
  if (newlyAdded.size > 0 && (!groupOwnedBy(found, cluster) || addedValue !== groupAdded(found))) {
    tags.push({ key: OWNER_TAG, value: cluster, propagateAtLaunch: false });
    tags.push({ key: GROUP_ADDED_TAG, value: addedValue, propagateAtLaunch: false });
    if (newlyAdded.has("managed-tag")) {
      const key = found.tags[MANAGED_TAG_KEY_TAG]?.value ?? spec.managedTag;
      tags.push({ key: MANAGED_TAG_KEY_TAG, value: key, propagateAtLaunch: false });
    }
  }
  const tagLabel = `${spec.name} tags`;
  actions.push(
    tags.length === 0
      ? {
          op: "leave",
          type: "group-tags",
          name: tagLabel,
          reason: `${spec.managedTag} present`,
          steps: [],
        }
      : {
          op: managed === undefined ? "create" : "update",
          type: "group-tags",
          name: tagLabel,
          reason: tags.map((t) => `${t.key}=${t.value}`).join(", "),
          steps: [{ type: "put-group-tags", group: spec.name, tags }],
        },
  );
  return actions;
}

export function leave(
  type: ResourceType,
  name: string,
  reason: string,
  tags: Readonly<Record<string, string>>,
  cluster: string,
): Action {
  const note = ownedBy(tags, cluster) ? "" : " (not created by nthd; teardown keeps it)";
  return { op: "leave", type, name, reason: reason + note, steps: [] };
}

function adopted(tags: Readonly<Record<string, string>>, cluster: string): string {
  return ownedBy(tags, cluster) ? "" : " (not created by nthd; teardown keeps it)";
}

/**
 * A comparable form of a JSON value or plain string: object keys sorted,
 * one-element arrays unwrapped and scalars as strings, because AWS may hand a
 * policy back in a different but equivalent shape.
 */
export function canonical(value: string | undefined): string {
  if (value === undefined) return "";
  try {
    return JSON.stringify(normalize(JSON.parse(value)));
  } catch {
    return value;
  }
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 1 ? normalize(value[0]) : value.map(normalize);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, normalize((value as Record<string, unknown>)[k])]),
    );
  }
  return String(value);
}
