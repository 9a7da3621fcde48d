/**
 * The CloudFormation equivalent of what setup creates, for people who
 * provision through IaC. Built from the same DesiredState, so the template
 * and `nthd setup` cannot disagree. JSON (which is also valid YAML).
 *
 * Differences, stated in the template's Metadata as well: tags on existing
 * Auto Scaling groups cannot be set by a stack (the managed tag is listed for
 * the user to add); the stack, not an ownership tag, owns what it creates.
 */
import { HOOK_TRANSITION } from "./names.ts";
import { queuePolicy } from "./policy.ts";
import {
  type DesiredState,
  DLQ_RETENTION_SECONDS,
  desiredState,
  MAX_RECEIVE_COUNT,
  RETENTION_SECONDS,
  type SetupOptions,
} from "./state.ts";

const QUEUE = "Queue";
const DLQ = "DeadLetterQueue";

export function cloudFormationTemplate(options: SetupOptions): Record<string, unknown> {
  // ARNs inside the template are references; the desired state only supplies names and rules.
  const desired: DesiredState = desiredState(options, { queue: "", deadLetterQueue: "" });
  const queueArn = { "Fn::GetAtt": [QUEUE, "Arn"] };
  const tags = Object.entries(desired.ownerTags).map(([Key, Value]) => ({ Key, Value }));
  const resources: Record<string, unknown> = {};
  if (desired.deadLetterQueue !== undefined) {
    resources[DLQ] = {
      Type: "AWS::SQS::Queue",
      Properties: {
        QueueName: desired.deadLetterQueue.name,
        MessageRetentionPeriod: DLQ_RETENTION_SECONDS,
        SqsManagedSseEnabled: true,
        Tags: tags,
      },
    };
  }
  resources[QUEUE] = {
    Type: "AWS::SQS::Queue",
    Properties: {
      QueueName: desired.queue.name,
      MessageRetentionPeriod: RETENTION_SECONDS,
      SqsManagedSseEnabled: true,
      ...(desired.deadLetterQueue !== undefined
        ? {
            RedrivePolicy: {
              deadLetterTargetArn: { "Fn::GetAtt": [DLQ, "Arn"] },
              maxReceiveCount: MAX_RECEIVE_COUNT,
            },
          }
        : {}),
      Tags: tags,
    },
  };
  resources.QueuePolicy = {
    Type: "AWS::SQS::QueuePolicy",
    Properties: {
      Queues: [{ Ref: QUEUE }],
      PolicyDocument: queuePolicy("__QUEUE_ARN__"),
    },
  };
  for (const rule of desired.rules) {
    resources[`${rule.event}Rule`] = {
      Type: "AWS::Events::Rule",
      Properties: {
        Name: rule.name,
        Description: rule.description,
        State: "ENABLED",
        EventPattern: rule.pattern,
        Targets: [{ Id: "nthd-queue", Arn: queueArn }],
      },
    };
  }
  desired.groups.forEach((group, i) => {
    resources[`LifecycleHook${i + 1}`] = {
      Type: "AWS::AutoScaling::LifecycleHook",
      Properties: {
        AutoScalingGroupName: group.name,
        LifecycleHookName: group.hookName,
        LifecycleTransition: HOOK_TRANSITION,
        HeartbeatTimeout: group.heartbeatTimeoutSeconds,
        DefaultResult: "CONTINUE",
      },
    };
  });
  const template = {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `nthd queue mode for cluster ${desired.cluster}: termination queue, EventBridge rules${desired.groups.length > 0 ? ", lifecycle hooks" : ""}`,
    Metadata: {
      nthd: {
        cluster: desired.cluster,
        notInTemplate:
          desired.groups.length > 0
            ? `add the tag ${options.managedTag} (propagate at launch) to: ${desired.groups.map((g) => g.name).join(", ")}`
            : "nothing",
      },
    },
    Resources: resources,
    Outputs: {
      QueueURL: { Description: "QUEUE_URL for nthd", Value: { Ref: QUEUE } },
      QueueARN: { Value: queueArn },
    },
  };
  // The policy names the queue ARN, known only to the stack: swap the marker for a reference.
  return JSON.parse(
    JSON.stringify(template).replaceAll('"__QUEUE_ARN__"', JSON.stringify(queueArn)),
  ) as Record<string, unknown>;
}
