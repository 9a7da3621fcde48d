/**
 * Carries out a plan's steps, in order, one AWS call each. Stops at the
 * first failure (the error names the IAM action when AWS refused); running
 * setup again continues from what exists, since the planner is idempotent.
 */
import {
  CreateOrUpdateTagsCommand,
  DeleteLifecycleHookCommand,
  DeleteTagsCommand,
  PutLifecycleHookCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  DeleteRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  type PutTargetsCommandOutput,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import { NthdError } from "../../errors.ts";
import { call, type Service, type SetupClients } from "./aws.ts";
import { HOOK_TRANSITION } from "./names.ts";
import type { Action, Step } from "./plan.ts";

export async function executePlan(
  clients: SetupClients,
  actions: readonly Action[],
  onStep: (action: Action, step: Step) => void = () => {},
): Promise<void> {
  for (const action of actions) {
    for (const step of action.steps) {
      onStep(action, step);
      await executeStep(clients, step);
    }
  }
}

export async function executeStep(clients: SetupClients, step: Step): Promise<void> {
  const { service, command, about } = request(step);
  const out = await call<unknown>(service, clients[service], command, about);
  if (step.type === "put-target") {
    // PutTargets reports per-target failures in a 200 answer.
    const { FailedEntryCount, FailedEntries } = out as PutTargetsCommandOutput;
    const failed = FailedEntries?.[0];
    if ((FailedEntryCount ?? 0) > 0 && failed !== undefined) {
      throw new NthdError(
        "AWS_API",
        `events:PutTargets (rule ${step.rule}): ${failed.ErrorCode}: ${failed.ErrorMessage}`,
      );
    }
  }
}

/** The one AWS call a step is, and what it is about (for the error when it fails). */
interface Request {
  readonly service: Service;
  readonly command: object;
  readonly about: string;
}

const sqs = (queue: string, command: object): Request => ({
  service: "sqs",
  command,
  about: `queue ${queue}`,
});
const events = (rule: string, command: object): Request => ({
  service: "events",
  command,
  about: `rule ${rule}`,
});
const autoscaling = (group: string, command: object): Request => ({
  service: "autoscaling",
  command,
  about: `group ${group}`,
});
const groupResource = (group: string) =>
  ({ ResourceId: group, ResourceType: "auto-scaling-group" }) as const;

function request(step: Step): Request {
  switch (step.type) {
    case "create-queue":
      return sqs(
        step.name,
        new CreateQueueCommand({
          QueueName: step.name,
          Attributes: step.attributes,
          tags: step.tags,
        }),
      );
    case "set-queue-attributes":
      return sqs(
        step.name,
        new SetQueueAttributesCommand({ QueueUrl: step.url, Attributes: step.attributes }),
      );
    case "delete-queue":
      return sqs(step.name, new DeleteQueueCommand({ QueueUrl: step.url }));
    case "put-rule":
      return events(
        step.name,
        new PutRuleCommand({
          Name: step.name,
          EventPattern: step.pattern,
          State: "ENABLED",
          Description: step.description,
          ...(step.tags !== undefined
            ? { Tags: Object.entries(step.tags).map(([Key, Value]) => ({ Key, Value })) }
            : {}),
        }),
      );
    case "put-target":
      return events(
        step.rule,
        new PutTargetsCommand({ Rule: step.rule, Targets: [{ Id: step.id, Arn: step.arn }] }),
      );
    case "remove-targets":
      return events(step.rule, new RemoveTargetsCommand({ Rule: step.rule, Ids: step.ids }));
    case "delete-rule":
      return events(step.name, new DeleteRuleCommand({ Name: step.name }));
    case "put-hook":
      return autoscaling(
        step.group,
        new PutLifecycleHookCommand({
          AutoScalingGroupName: step.group,
          LifecycleHookName: step.hook,
          LifecycleTransition: HOOK_TRANSITION,
          HeartbeatTimeout: step.heartbeatTimeoutSeconds,
          DefaultResult: "CONTINUE",
        }),
      );
    case "delete-hook":
      return autoscaling(
        step.group,
        new DeleteLifecycleHookCommand({
          AutoScalingGroupName: step.group,
          LifecycleHookName: step.hook,
        }),
      );
    case "put-group-tags":
      return autoscaling(
        step.group,
        new CreateOrUpdateTagsCommand({
          Tags: step.tags.map((t) => ({
            ...groupResource(step.group),
            Key: t.key,
            Value: t.value,
            PropagateAtLaunch: t.propagateAtLaunch,
          })),
        }),
      );
    case "delete-group-tags":
      return autoscaling(
        step.group,
        new DeleteTagsCommand({
          Tags: step.keys.map((Key) => ({ ...groupResource(step.group), Key })),
        }),
      );
    default: {
      const never: never = step;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
}
