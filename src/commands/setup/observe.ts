/**
 * Reads what exists in AWS for one cluster: the queue and its dead-letter
 * queue (attributes and tags), the cluster's rules (pattern, state, targets,
 * tags) and the Auto Scaling groups concerned (tags, lifecycle hooks).
 * Read-only; every refused call names its IAM action.
 */
import {
  DescribeAutoScalingGroupsCommand,
  type DescribeAutoScalingGroupsCommandOutput,
  DescribeLifecycleHooksCommand,
  type DescribeLifecycleHooksCommandOutput,
  DescribeTagsCommand,
  type DescribeTagsCommandOutput,
} from "@aws-sdk/client-auto-scaling";
import {
  ListRulesCommand,
  type ListRulesCommandOutput,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandOutput,
  ListTargetsByRuleCommand,
  type ListTargetsByRuleCommandOutput,
} from "@aws-sdk/client-eventbridge";
import {
  GetQueueAttributesCommand,
  type GetQueueAttributesCommandOutput,
  GetQueueUrlCommand,
  type GetQueueUrlCommandOutput,
  ListQueueTagsCommand,
  type ListQueueTagsCommandOutput,
} from "@aws-sdk/client-sqs";
import { isNthdError } from "../../errors.ts";
import { call, type SetupClients } from "./aws.ts";
import { deadLetterQueueName, OWNER_TAG, queueName, ruleName } from "./names.ts";
import { allRuleEvents } from "./rules.ts";
import type { ObservedGroup, ObservedQueue, ObservedRule, ObservedState } from "./state.ts";

const NO_QUEUE = new Set(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"]);

export async function observeQueue(
  clients: SetupClients,
  name: string,
): Promise<ObservedQueue | undefined> {
  let url: string | undefined;
  try {
    const out = await call<GetQueueUrlCommandOutput>(
      "sqs",
      clients.sqs,
      new GetQueueUrlCommand({ QueueName: name }),
      `queue ${name}`,
    );
    url = out.QueueUrl;
  } catch (err) {
    if (isNthdError(err, "AWS_API") && NO_QUEUE.has(String(err.context.awsError))) return undefined;
    throw err;
  }
  if (url === undefined) return undefined;
  const attrs = await call<GetQueueAttributesCommandOutput>(
    "sqs",
    clients.sqs,
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
    `queue ${name}`,
  );
  const tags = await call<ListQueueTagsCommandOutput>(
    "sqs",
    clients.sqs,
    new ListQueueTagsCommand({ QueueUrl: url }),
    `queue ${name}`,
  );
  const attributes = { ...(attrs.Attributes ?? {}) };
  return { name, url, arn: attributes.QueueArn ?? "", attributes, tags: { ...(tags.Tags ?? {}) } };
}

/** The rules named `<cluster>-<Event>` for every event setup knows. */
export async function observeRules(
  clients: SetupClients,
  cluster: string,
): Promise<ObservedRule[]> {
  const wanted = new Set(allRuleEvents().map((e) => ruleName(cluster, e)));
  const rules: ObservedRule[] = [];
  let token: string | undefined;
  do {
    const page = await call<ListRulesCommandOutput>(
      "events",
      clients.events,
      new ListRulesCommand({ NamePrefix: `${cluster}-`, ...(token ? { NextToken: token } : {}) }),
      `rules ${cluster}-*`,
    );
    for (const rule of page.Rules ?? []) {
      if (rule.Name === undefined || !wanted.has(rule.Name)) continue;
      rules.push(await readRule(clients, rule.Name, rule.Arn, rule.EventPattern, rule.State));
    }
    token = page.NextToken;
  } while (token);
  return rules.sort((a, b) => a.name.localeCompare(b.name));
}

async function readRule(
  clients: SetupClients,
  name: string,
  arn: string | undefined,
  pattern: string | undefined,
  state: string | undefined,
): Promise<ObservedRule> {
  const targets = await call<ListTargetsByRuleCommandOutput>(
    "events",
    clients.events,
    new ListTargetsByRuleCommand({ Rule: name }),
    `rule ${name}`,
  );
  const tags =
    arn === undefined
      ? []
      : ((
          await call<ListTagsForResourceCommandOutput>(
            "events",
            clients.events,
            new ListTagsForResourceCommand({ ResourceARN: arn }),
            `rule ${name}`,
          )
        ).Tags ?? []);
  return {
    name,
    ...(pattern !== undefined ? { pattern } : {}),
    ...(state !== undefined ? { state } : {}),
    tags: Object.fromEntries(tags.map((t) => [t.Key ?? "", t.Value ?? ""])),
    targets: (targets.Targets ?? []).map((t) => ({ id: t.Id ?? "", arn: t.Arn ?? "" })),
  };
}

/** Named groups (setup) with their tags and hooks; names not found are reported. */
export async function observeGroups(
  clients: SetupClients,
  names: readonly string[],
): Promise<{ groups: ObservedGroup[]; missing: string[] }> {
  if (names.length === 0) return { groups: [], missing: [] };
  const groups: ObservedGroup[] = [];
  const out = await call<DescribeAutoScalingGroupsCommandOutput>(
    "autoscaling",
    clients.autoscaling,
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [...names] }),
    `groups ${names.join(", ")}`,
  );
  for (const group of out.AutoScalingGroups ?? []) {
    const name = group.AutoScalingGroupName ?? "";
    const tags = Object.fromEntries(
      (group.Tags ?? []).map((t) => [
        t.Key ?? "",
        { value: t.Value ?? "", propagateAtLaunch: t.PropagateAtLaunch === true },
      ]),
    );
    groups.push({ name, tags, hooks: await observeHooks(clients, name) });
  }
  const found = new Set(groups.map((g) => g.name));
  return { groups, missing: names.filter((n) => !found.has(n)) };
}

export async function observeHooks(clients: SetupClients, group: string) {
  const out = await call<DescribeLifecycleHooksCommandOutput>(
    "autoscaling",
    clients.autoscaling,
    new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }),
    `group ${group}`,
  );
  return (out.LifecycleHooks ?? []).map((h) => ({
    name: h.LifecycleHookName ?? "",
    ...(h.LifecycleTransition !== undefined ? { transition: h.LifecycleTransition } : {}),
    ...(h.HeartbeatTimeout !== undefined ? { heartbeatTimeoutSeconds: h.HeartbeatTimeout } : {}),
    ...(h.DefaultResult !== undefined ? { defaultResult: h.DefaultResult } : {}),
  }));
}

/** Groups whose tag `key` has one of `values` (any value when omitted). */
export async function groupsTagged(
  clients: SetupClients,
  key: string,
  values?: readonly string[],
): Promise<string[]> {
  const names = new Set<string>();
  let token: string | undefined;
  do {
    const page = await call<DescribeTagsCommandOutput>(
      "autoscaling",
      clients.autoscaling,
      new DescribeTagsCommand({
        Filters: [
          { Name: "key", Values: [key] },
          ...(values !== undefined ? [{ Name: "value", Values: [...values] }] : []),
        ],
        ...(token ? { NextToken: token } : {}),
      }),
      `groups tagged ${key}`,
    );
    for (const tag of page.Tags ?? []) {
      if (tag.ResourceType === "auto-scaling-group" || tag.ResourceType === undefined) {
        if (tag.ResourceId) names.add(tag.ResourceId);
      }
    }
    token = page.NextToken ?? undefined;
  } while (token);
  return [...names].sort();
}

export async function observeForSetup(
  clients: SetupClients,
  cluster: string,
  groupNames: readonly string[],
): Promise<ObservedState> {
  const [queue, deadLetterQueue, rules, groups] = await Promise.all([
    observeQueue(clients, queueName(cluster)),
    observeQueue(clients, deadLetterQueueName(cluster)),
    observeRules(clients, cluster),
    observeGroups(clients, groupNames),
  ]);
  return {
    ...(queue ? { queue } : {}),
    ...(deadLetterQueue ? { deadLetterQueue } : {}),
    rules,
    groups: groups.groups,
    missingGroups: groups.missing,
  };
}

/** Everything teardown might remove: same as setup, groups found by the owner tag. */
export async function observeForTeardown(
  clients: SetupClients,
  cluster: string,
): Promise<ObservedState> {
  const owned = await groupsTagged(clients, OWNER_TAG, [cluster]);
  return observeForSetup(clients, cluster, owned);
}
