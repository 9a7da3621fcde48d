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
import { call, type SetupClients } from "./aws.ts";
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
  switch (step.type) {
    case "create-queue":
      await call(
        "sqs",
        clients.sqs,
        new CreateQueueCommand({
          QueueName: step.name,
          Attributes: step.attributes,
          tags: step.tags,
        }),
        `queue ${step.name}`,
      );
      return;
    case "set-queue-attributes":
      await call(
        "sqs",
        clients.sqs,
        new SetQueueAttributesCommand({
          QueueUrl: step.url,
          Attributes: step.attributes,
        }),
        `queue ${step.name}`,
      );
      return;
    case "delete-queue":
      await call(
        "sqs",
        clients.sqs,
        new DeleteQueueCommand({ QueueUrl: step.url }),
        `queue ${step.name}`,
      );
      return;
    case "put-rule":
      await call(
        "events",
        clients.events,
        new PutRuleCommand({
          Name: step.name,
          EventPattern: step.pattern,
          State: "ENABLED",
          Description: step.description,
          ...(step.tags !== undefined
            ? { Tags: Object.entries(step.tags).map(([Key, Value]) => ({ Key, Value })) }
            : {}),
        }),
        `rule ${step.name}`,
      );
      return;
    case "put-target": {
      const out = await call<PutTargetsCommandOutput>(
        "events",
        clients.events,
        new PutTargetsCommand({
          Rule: step.rule,
          Targets: [{ Id: step.id, Arn: step.arn }],
        }),
        `rule ${step.rule}`,
      );
      // PutTargets reports per-target failures in a 200 answer.
      const failed = out.FailedEntries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 && failed !== undefined) {
        throw new NthdError(
          "AWS_API",
          `events:PutTargets (rule ${step.rule}): ${failed.ErrorCode}: ${failed.ErrorMessage}`,
        );
      }
      return;
    }
    case "remove-targets":
      await call(
        "events",
        clients.events,
        new RemoveTargetsCommand({ Rule: step.rule, Ids: step.ids }),
        `rule ${step.rule}`,
      );
      return;
    case "delete-rule":
      await call(
        "events",
        clients.events,
        new DeleteRuleCommand({ Name: step.name }),
        `rule ${step.name}`,
      );
      return;
    case "put-hook":
      await call(
        "autoscaling",
        clients.autoscaling,
        new PutLifecycleHookCommand({
          AutoScalingGroupName: step.group,
          LifecycleHookName: step.hook,
          LifecycleTransition: HOOK_TRANSITION,
          HeartbeatTimeout: step.heartbeatTimeoutSeconds,
          DefaultResult: "CONTINUE",
        }),
        `group ${step.group}`,
      );
      return;
    case "delete-hook":
      await call(
        "autoscaling",
        clients.autoscaling,
        new DeleteLifecycleHookCommand({
          AutoScalingGroupName: step.group,
          LifecycleHookName: step.hook,
        }),
        `group ${step.group}`,
      );
      return;
    case "put-group-tags":
      await call(
        "autoscaling",
        clients.autoscaling,
        new CreateOrUpdateTagsCommand({
          Tags: step.tags.map((t) => ({
            ResourceId: step.group,
            ResourceType: "auto-scaling-group",
            Key: t.key,
            Value: t.value,
            PropagateAtLaunch: t.propagateAtLaunch,
          })),
        }),
        `group ${step.group}`,
      );
      return;
    case "delete-group-tags":
      await call(
        "autoscaling",
        clients.autoscaling,
        new DeleteTagsCommand({
          Tags: step.keys.map((Key) => ({
            ResourceId: step.group,
            ResourceType: "auto-scaling-group",
            Key,
          })),
        }),
        `group ${step.group}`,
      );
      return;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
}
