/**
 * Property-based tests of the queue body parser: bodies generated from
 * scratch (any text, any JSON, event-shaped objects of every handled kind,
 * SNS envelopes up to three deep) and mutated from every SQS fixture (keys
 * dropped, wrong types, huge strings, deep nesting, odd Unicode, SNS
 * wrapping, text cut and spliced). Every case: no throw, at most 50 ms, an
 * answer that is handle, ignore or error and well formed.
 * NTHD_FUZZ_RUNS sets the cases per property (`npm run fuzz`).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { HANDLED_EVENT_TYPES, parseQueueMessage } from "../../src/sources/queue/parse.ts";
import { awsEventPath, readAwsEvent } from "../support/fixtures.ts";
import { assertProperty, CaseTimer, checkParsed, fuzzParams, Tally } from "../support/fuzz.ts";
import { anyJson, anyString, mutatedBody } from "../support/fuzz-inputs.ts";

const RECEIVED = new Date("2025-06-01T00:00:00Z");

const SQS = awsEventPath("sqs");
const FIXTURES = readdirSync(SQS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(SQS, d.name)).map((f) => readAwsEvent(`sqs/${d.name}/${f}`)));

const sns = (inner: string, times: number): string => {
  let body = inner;
  for (let i = 0; i < times; i++) body = JSON.stringify({ Type: "Notification", Message: body });
  return body;
};

/** An EventBridge-shaped event of a handled kind, with any detail. */
const eventShaped = fc
  .record({
    type: fc.constantFrom(...HANDLED_EVENT_TYPES),
    id: fc.oneof(fc.uuid(), anyString),
    time: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      anyString,
    ),
    detail: fc.oneof(
      anyJson,
      fc.record(
        {
          "instance-id": fc.oneof(fc.constantFrom("i-1234567890abcdef0", "i-12345678"), anyString),
          state: fc.oneof(
            fc.constantFrom("pending", "running", "stopping", "stopped", "terminated"),
            anyJson,
          ),
          EC2InstanceId: fc.oneof(fc.constant("i-0598c7d356eba48d7"), anyString),
          LifecycleTransition: fc.constantFrom(
            "autoscaling:EC2_INSTANCE_TERMINATING",
            "autoscaling:EC2_INSTANCE_LAUNCHING",
            "autoscaling:TEST_NOTIFICATION",
          ),
          AutoScalingGroupName: anyString,
          LifecycleHookName: anyString,
          service: fc.constantFrom("EC2", "S3"),
          eventTypeCategory: fc.constantFrom("scheduledChange", "issue"),
          affectedEntities: anyJson,
        },
        { requiredKeys: [] },
      ),
    ),
  })
  .map(({ type, id, time, detail }) =>
    JSON.stringify({ id, source: type.source, "detail-type": type.detailType, time, detail }),
  );

const fromScratch = fc.oneof(
  anyString,
  anyJson.map((v) => JSON.stringify(v) ?? "null"),
  eventShaped,
  fc.tuple(eventShaped, fc.integer({ min: 1, max: 3 })).map(([body, n]) => sns(body, n)),
);

/** Shapes that cost a JSON parser most, near the 1 MiB limit. */
const MB = 1024 * 1024;
const heavy = fc.constantFrom(
  () => `[${"1,".repeat(MB / 2 - 2)}1]`,
  () => `{${Array.from({ length: 80_000 }, (_, i) => `"k${i}":1`).join(",")}}`,
  () => `"${"\\u0000".repeat(MB / 6 - 1)}"`,
  () => `${"[".repeat(10_000)}${"]".repeat(10_000)}`,
  () => `${"[".repeat(10_001)}${"]".repeat(10_001)}`,
  () => "[".repeat(MB - 1),
  () => `[${"1,".repeat(MB / 2 - 2)}1`,
  () => sns(`${"[".repeat(300_000)}${"]".repeat(300_000)}`, 1),
  () => "x".repeat(MB + 1),
);

function property(name: string, arb: fc.Arbitrary<string>, runs?: number) {
  it(name, (t) => {
    const timer = new CaseTimer();
    const tally = new Tally();
    assertProperty(
      fc.property(arb, (body) => {
        tally.add(
          checkParsed(
            timer.run(body, (b) => parseQueueMessage(b, RECEIVED)),
            { source: "queue" },
          ),
        );
      }),
      runs === undefined ? fuzzParams() : { ...fuzzParams(), numRuns: runs },
    );
    t.diagnostic(`${timer.summary(`queue ${name}`)} ${tally}`);
  });
}

describe("queue parser, fuzzed", () => {
  property("bodies from scratch", fromScratch);
  property("bodies mutated from every fixture", mutatedBody(FIXTURES));
  property(
    "the heaviest shapes near the size limit",
    heavy.map((make) => make()),
    20,
  );
});
