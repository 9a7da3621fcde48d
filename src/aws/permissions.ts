/**
 * Every AWS permission queue mode uses, what stops working without each, and
 * a probe that finds out which are granted without changing anything.
 *
 * AWS authorizes a call before it validates it, so a call with made-up
 * arguments answers "invalid" when it is allowed and AccessDenied when not
 * (EC2 offers DryRun for the same purpose). A narrower policy (kOps' grants
 * neither ChangeMessageVisibility, DescribeLifecycleHooks nor
 * RecordLifecycleActionHeartbeat) then degrades loudly: named at start-up,
 * counted in nthd_aws_permission_missing, listed by `nthd doctor`, instead
 * of failing call after call.
 */
import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
} from "@aws-sdk/client-auto-scaling";
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { errorMessage } from "../errors.ts";
import type { AwsPermission } from "../observe/labels.ts";

export interface PermissionSpec {
  readonly action: AwsPermission;
  /** Without it queue mode does not work at all (vs. one feature stops). */
  readonly required: boolean;
  /** What stops working without it, in an operator's words. */
  readonly without: string;
}

/** The table: one row per IAM action nthd's queue mode calls. */
export const QUEUE_MODE_PERMISSIONS: readonly PermissionSpec[] = [
  {
    action: "sqs:ReceiveMessage",
    required: true,
    without: "no message is ever received",
  },
  {
    action: "sqs:DeleteMessage",
    required: true,
    without: "handled messages come back after their visibility timeout and are handled again",
  },
  {
    action: "sqs:ChangeMessageVisibility",
    required: false,
    without:
      "messages are not kept invisible while their drain runs: after SQS_MSG_VISIBILITY_TIMEOUT_SEC another replica receives them again, and shutdown cannot hand them back at once",
  },
  {
    action: "ec2:DescribeInstances",
    required: true,
    without:
      "instances are not matched to nodes by private DNS name and the managed tag cannot be checked (with CHECK_TAG_BEFORE_DRAINING every notice is ignored)",
  },
  {
    action: "autoscaling:CompleteLifecycleAction",
    required: true,
    without:
      "terminate lifecycle actions are never completed: Auto Scaling waits for the hook's timeout before terminating",
  },
  {
    action: "autoscaling:DescribeLifecycleHooks",
    required: false,
    without:
      "the hook's heartbeat timeout cannot be read, so HEARTBEAT_INTERVAL=auto sends no heartbeats",
  },
  {
    action: "autoscaling:RecordLifecycleActionHeartbeat",
    required: false,
    without:
      "no lifecycle heartbeats: a drain longer than the hook's heartbeat timeout lets Auto Scaling terminate the instance before the drain ends",
  },
];

export type PermissionState = "allowed" | "denied" | "unknown";

export interface PermissionResult extends PermissionSpec {
  readonly state: PermissionState;
  /** For "unknown": what the probe got instead of an answer. */
  readonly detail?: string;
}

/** Error names AWS services use for "not allowed". */
const DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "AuthorizationError",
  "AuthorizationErrorException",
  "NotAuthorized",
]);

/** 403s that are about the credentials, not about the action: every call fails alike. */
const CREDENTIAL_FAILURES =
  /InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|IncompleteSignature|InvalidAccessKeyId|UnrecognizedClient/;

export function isAccessDenied(err: unknown): boolean {
  const e = err as {
    name?: unknown;
    Code?: unknown;
    $metadata?: { httpStatusCode?: number };
  } | null;
  if (typeof e?.name === "string" && DENIED.has(e.name)) return true;
  if (typeof e?.Code === "string" && DENIED.has(e.Code)) return true;
  // A 403 whose body the SDK could not read as an error of the protocol (an
  // XML error page on a JSON API, as some AWS emulators send) is still a refusal.
  return (
    e?.$metadata?.httpStatusCode === 403 &&
    !(typeof e.name === "string" && CREDENTIAL_FAILURES.test(e.name))
  );
}

const PROBE = "nthd-permission-probe";
const PROBE_INSTANCE = "i-00000000000000000";

export interface ProbeClients {
  readonly sqs: Pick<SQSClient, "send">;
  readonly ec2: Pick<EC2Client, "send">;
  readonly autoscaling: Pick<AutoScalingClient, "send">;
}

/**
 * The call that proves each probed action, with made-up arguments. Receive is
 * not probed: it would take a real message (the consumer's first receive
 * proves it anyway).
 */
function probeCall(action: AwsPermission, c: ProbeClients, queueUrl: string): Promise<unknown> {
  switch (action) {
    case "sqs:DeleteMessage":
      return c.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: PROBE }));
    case "sqs:ChangeMessageVisibility":
      return c.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: PROBE,
          VisibilityTimeout: 0,
        }),
      );
    case "ec2:DescribeInstances":
      return c.ec2.send(new DescribeInstancesCommand({ DryRun: true, MaxResults: 5 }));
    case "autoscaling:CompleteLifecycleAction":
      return c.autoscaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: PROBE,
          LifecycleHookName: PROBE,
          InstanceId: PROBE_INSTANCE,
          LifecycleActionResult: "CONTINUE",
        }),
      );
    case "autoscaling:DescribeLifecycleHooks":
      return c.autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: PROBE }));
    case "autoscaling:RecordLifecycleActionHeartbeat":
      return c.autoscaling.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: PROBE,
          LifecycleHookName: PROBE,
          InstanceId: PROBE_INSTANCE,
        }),
      );
    case "sqs:ReceiveMessage":
      return Promise.resolve("not probed");
    default: {
      const unhandled: never = action;
      return unhandled;
    }
  }
}

/** Any answer but AccessDenied means the call got past authorization. */
export async function probePermissions(
  clients: ProbeClients,
  queueUrl: string,
): Promise<PermissionResult[]> {
  return Promise.all(
    QUEUE_MODE_PERMISSIONS.map(async (spec): Promise<PermissionResult> => {
      if (spec.action === "sqs:ReceiveMessage")
        return { ...spec, state: "unknown", detail: "not probed" };
      try {
        await probeCall(spec.action, clients, queueUrl);
        return { ...spec, state: "allowed" };
      } catch (err) {
        if (isAccessDenied(err)) return { ...spec, state: "denied" };
        // EC2's dry run says "would have succeeded" with an error.
        if ((err as { name?: string }).name === "DryRunOperation")
          return { ...spec, state: "allowed" };
        const name = (err as { name?: string }).name ?? "";
        // Validation and not-found answers come after authorization.
        if (/Invalid|Validation|NotFound|NonExistent|Malformed|NotInflight/i.test(name)) {
          return { ...spec, state: "allowed" };
        }
        return { ...spec, state: "unknown", detail: `${name || "error"}: ${errorMessage(err)}` };
      }
    }),
  );
}

/** The denied actions of a probe, as a set for the parts that degrade. */
export function deniedActions(results: readonly PermissionResult[]): ReadonlySet<AwsPermission> {
  return new Set(results.filter((r) => r.state === "denied").map((r) => r.action));
}
