/**
 * `doctor --send-test-event`: a synthetic, clearly marked event goes to the
 * queue and doctor waits to see it arrive.
 *
 * Why straight to the queue and not through EventBridge: nthd's rules match
 * `aws.*` sources only, and PutEvents refuses `aws.*` sources from
 * customers, so no test event can take a rule's path on real AWS. The rule
 * path is covered by the rule and policy checks instead. The message is
 * EventBridge-shaped with source `nthd.doctor`; nthd's parser classifies it
 * as "ignore" (deleted, never drained), which doctor verifies before sending.
 */
import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { parseQueueMessage } from "../../sources/queue/parse.ts";
import { call, type SetupClients } from "../setup/aws.ts";
import { type CheckResult, errored, fail, pass, warn } from "./check.ts";

export const TEST_EVENT_SOURCE = "nthd.doctor";
export const TEST_EVENT_DETAIL_TYPE = "nthd doctor test event";

export function testEventBody(id: string, region: string, now: Date): string {
  return JSON.stringify({
    version: "0",
    id,
    "detail-type": TEST_EVENT_DETAIL_TYPE,
    source: TEST_EVENT_SOURCE,
    account: "000000000000",
    time: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region,
    resources: [],
    detail: { synthetic: true, note: "sent by nthd doctor --send-test-event; never drained" },
  });
}

export async function sendTestEvent(
  clients: SetupClients,
  queueUrl: string,
  waitMs = 10_000,
): Promise<CheckResult> {
  const title = "test event reaches the queue";
  const id = `nthd-doctor-${randomUUID()}`;
  const body = testEventBody(id, clients.region, new Date());
  const parsed = parseQueueMessage(body, new Date());
  if (parsed.ok || !("ignore" in parsed)) {
    return fail(
      "test-event",
      title,
      "nthd's parser would not ignore the test event",
      "report this as a bug",
    );
  }
  try {
    await call(
      "sqs",
      clients.sqs,
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
      "test event",
    );
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      const got = await call<ReceiveMessageCommandOutput>(
        "sqs",
        clients.sqs,
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 5,
        }),
        "test event",
      );
      let seen = false;
      for (const m of got.Messages ?? []) {
        if (m.ReceiptHandle === undefined) continue;
        if (m.Body?.includes(id)) {
          seen = true;
          await call(
            "sqs",
            clients.sqs,
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
            "test event",
          );
        } else {
          // Not ours: hand it back at once for nthd to take.
          await call(
            "sqs",
            clients.sqs,
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
            "test event",
          );
        }
      }
      if (seen)
        return pass(
          "test-event",
          title,
          `${id} sent, received and deleted; nthd classifies it: ${parsed.ignore}`,
        );
    }
    return warn(
      "test-event",
      title,
      `${id} sent but not seen within ${waitMs / 1000} s`,
      'a running nthd probably took it first: it deletes it as an ignored kind (nthd_queue_messages_deleted_total{reason="ignored-kind"})',
    );
  } catch (err) {
    return errored(
      "test-event",
      title,
      err,
      "grant sqs:SendMessage to the identity running doctor",
    );
  }
}
