/**
 * Doctor's queue checks: the queue exists, nthd may receive, delete and
 * extend its messages, and its policy lets EventBridge send. Nothing here
 * changes AWS state or takes a real message off the queue.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type GetQueueAttributesCommandOutput,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { isNthdError } from "../../errors.ts";
import { call } from "../setup/aws.ts";
import { policyAllowsEventBridge } from "../setup/policy.ts";
import { type AwsCheckInput, type QueueFacts, setupHint } from "./aws-checks.ts";
import { type CheckResult, errored, fail, pass } from "./check.ts";

export async function checkQueue(
  input: AwsCheckInput,
): Promise<{ result: CheckResult; facts?: QueueFacts }> {
  const title = "queue exists";
  try {
    const out = await call<GetQueueAttributesCommandOutput>(
      "sqs",
      input.clients.sqs,
      new GetQueueAttributesCommand({ QueueUrl: input.queueUrl, AttributeNames: ["All"] }),
      `queue ${input.queueUrl}`,
    );
    const a = out.Attributes ?? {};
    const messages =
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
    const facts = {
      arn: a.QueueArn ?? "",
      messages,
      ...(a.Policy !== undefined ? { policy: a.Policy } : {}),
    };
    return { result: pass("queue:exists", title, `${facts.arn} (${messages} messages)`), facts };
  } catch (err) {
    return {
      result: errored(
        "queue:exists",
        title,
        err,
        `create it: ${setupHint(input)}, or fix QUEUE_URL`,
      ),
    };
  }
}

/** AWS answers these for a well-formed call with a made-up receipt handle: the caller was allowed. */
const ALLOWED_BUT_INVALID = new Set([
  "ReceiptHandleIsInvalid",
  "InvalidParameterValue",
  "MessageNotInflight",
]);
const FAKE_HANDLE = "nthd-doctor-permission-probe";

/**
 * Receive, delete and change-visibility rights, proven without touching a
 * message: AWS authorizes before it validates, so a made-up receipt handle
 * gets "invalid handle" when allowed and AccessDenied when not. Receive is
 * only tried on an empty queue (so no real message is taken).
 */
export async function checkQueueAccess(
  input: AwsCheckInput,
  facts: QueueFacts,
): Promise<CheckResult> {
  const title = "nthd may receive, delete and extend messages";
  const denied: string[] = [];
  const probes = [
    new DeleteMessageCommand({ QueueUrl: input.queueUrl, ReceiptHandle: FAKE_HANDLE }),
    new ChangeMessageVisibilityCommand({
      QueueUrl: input.queueUrl,
      ReceiptHandle: FAKE_HANDLE,
      VisibilityTimeout: 0,
    }),
  ];
  for (const probe of probes) {
    try {
      await call("sqs", input.clients.sqs, probe, "permission probe");
    } catch (err) {
      if (isNthdError(err, "AWS_PERMISSION")) denied.push(String(err.context.action));
      else if (
        !(isNthdError(err, "AWS_API") && ALLOWED_BUT_INVALID.has(String(err.context.awsError)))
      ) {
        return errored("queue:access", title, err, "check the queue URL and network access to SQS");
      }
    }
  }
  let receive = "receive not probed: the queue holds messages and doctor never takes one";
  if (facts.messages === 0) {
    try {
      const got = await call<{ Messages?: { ReceiptHandle?: string }[] }>(
        "sqs",
        input.clients.sqs,
        new ReceiveMessageCommand({
          QueueUrl: input.queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 0,
        }),
        "permission probe",
      );
      receive = `receive allowed${(got.Messages?.length ?? 0) > 0 ? " (a message that just arrived was left visible)" : ""}`;
    } catch (err) {
      if (isNthdError(err, "AWS_PERMISSION")) denied.push(String(err.context.action));
      else return errored("queue:access", title, err, "check network access to SQS");
    }
  }
  if (denied.length > 0) {
    return fail(
      "queue:access",
      title,
      `denied: ${denied.join(", ")}`,
      `grant ${denied.join(", ")} on ${facts.arn} to nthd's IAM role`,
    );
  }
  return pass("queue:access", title, `delete and change-visibility allowed; ${receive}`);
}

export function checkPolicy(input: AwsCheckInput, facts: QueueFacts): CheckResult {
  const title = "queue policy lets EventBridge send";
  const verdict = policyAllowsEventBridge(facts.policy, facts.arn);
  if (verdict.ok) return pass("queue:policy", title, "events.amazonaws.com may sqs:SendMessage");
  return fail(
    "queue:policy",
    title,
    verdict.reason,
    `${setupHint(input)} (sets the policy), or allow events.amazonaws.com sqs:SendMessage on ${facts.arn}`,
  );
}
