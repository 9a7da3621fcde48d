/**
 * Every SQS body under test/fixtures/aws-events/sqs/ with the handling its
 * README documents. A fixture missing from the table fails the suite.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { NoticeAction, NoticeKind } from "../../src/notice.ts";
import type { Parsed } from "../../src/sources/parse-result.ts";
import { lifecycleActionOf, parseQueueMessage } from "../../src/sources/queue/parse.ts";
import { awsEventPath, readAwsEvent } from "../support/fixtures.ts";

const SQS = awsEventPath("sqs");
const RECEIVED = new Date("2025-06-01T00:00:00Z");
/** Receipt + 2 min: the Spot deadline when the event time is a doc placeholder. */
const RECEIPT_PLUS_2 = "2025-06-01T00:02:00.000Z";

interface Handle {
  readonly kind: NoticeKind;
  readonly action: NoticeAction;
  readonly ids: readonly string[];
  readonly deadline?: string;
  /** The body carries a tolerated oddity (doc placeholder) that must be reported. */
  readonly warns?: boolean;
  readonly sns?: boolean;
}
type Expected = Handle | "ignore" | "error";

const I0 = "i-1234567890abcdef0";
const drain = (kind: NoticeKind, id: string, more: Partial<Handle> = {}): Handle => ({
  kind,
  action: "drain",
  ids: [id],
  ...more,
});
const asgTerm = (id: string, more: Partial<Handle> = {}) => drain("asg-terminate", id, more);
const launch = (id: string, more: Partial<Handle> = {}): Handle => ({
  kind: "asg-launch",
  action: "complete-launch",
  ids: [id],
  ...more,
});
const cordon = (id: string, more: Partial<Handle> = {}): Handle => ({
  kind: "rebalance-recommendation",
  action: "cordon",
  ids: [id],
  ...more,
});

const EXPECTED: Record<string, Expected> = {
  "asg-direct/lifecycle-notification.launching.doc-as-json.json": launch("i-0598c7d356eba48d7"),
  "asg-direct/lifecycle-notification.launching.doc-keyvalue.txt": "ignore",
  "asg-direct/lifecycle-notification.terminating.derived.compact.json":
    asgTerm("i-0598c7d356eba48d7"),
  "asg-direct/lifecycle-notification.terminating.derived.json": asgTerm("i-0598c7d356eba48d7"),
  "asg-direct/lifecycle-notification.terminating.nth-fixture.json": asgTerm("i-040107f6ba000e5ee"),
  // No token: drained all the same, and completed by instance id.
  "asg-direct/lifecycle-notification.terminating.no-token.derived.json": asgTerm(
    "i-0598c7d356eba48d7",
    { warns: true },
  ),
  "asg-direct/lifecycle-notification.terminating.origin-destination.derived.json":
    asgTerm("i-0598c7d356eba48d7"),
  "asg-direct/test-notification.doc-as-json.json": "ignore",
  "asg-direct/test-notification.doc-keyvalue.txt": "ignore",
  "asg-direct/test-notification.nth-fixture.json": "ignore",
  "eventbridge/asg-launch-lifecycle-action.doc-2023.json": launch(I0, { warns: true }),
  "eventbridge/asg-launch-lifecycle-action.warmpool-ec2-to-asg.doc.json": launch(I0),
  "eventbridge/asg-launch-lifecycle-action.warmpool-ec2-to-warmpool.doc.json": launch(I0),
  "eventbridge/asg-launch-lifecycle-action.warmpool-warmpool-to-asg.doc.json": launch(I0),
  "eventbridge/asg-terminate-lifecycle-action.doc-2023.json": asgTerm(I0, { warns: true }),
  "eventbridge/asg-terminate-lifecycle-action.no-token.derived.json": asgTerm(I0, { warns: true }),
  "eventbridge/asg-terminate-lifecycle-action.nth-fixture.json": asgTerm("i-0633ac2b0d9769723"),
  "eventbridge/asg-terminate-lifecycle-action.warmpool-asg-to-warmpool.doc.json": asgTerm(I0),
  "eventbridge/asg-test-notification-via-eventbridge.nth-fixture.json": "ignore",
  "eventbridge/ec2-state-change.pending.doc.json": "ignore",
  "eventbridge/ec2-state-change.pending.nth-fixture.json": "ignore",
  // The state alone makes it irrelevant: the malformed instance id does not matter.
  "eventbridge/ec2-state-change.running.malformed-instance-id.derived.json": "ignore",
  "eventbridge/ec2-state-change.shutting-down.derived.json": drain(
    "instance-state-change",
    "i-abcd1111",
  ),
  "eventbridge/ec2-state-change.stopped.derived.json": drain("instance-state-change", "i-abcd1111"),
  "eventbridge/ec2-state-change.stopping.derived.json": drain(
    "instance-state-change",
    "i-abcd1111",
  ),
  "eventbridge/ec2-state-change.terminated.derived.json": drain(
    "instance-state-change",
    "i-abcd1111",
  ),
  "eventbridge/health-ec2-dedicated-host-network-maintenance-scheduled.nth-fixture.json": drain(
    "health-scheduled-change",
    "i-12345678",
    { deadline: "2016-06-05T15:10:09.000Z" },
  ),
  // Another service's Health event: ignored although it has no id and no time.
  "eventbridge/health-s3-issue.no-id-no-time.derived.json": "ignore",
  "eventbridge/rebalance-recommendation.derived.json": cordon(I0),
  "eventbridge/rebalance-recommendation.doc.json": cordon(I0, { warns: true }),
  "eventbridge/rebalance-recommendation.nth-fixture.json": cordon("i-0b662ef9931388ba0"),
  "eventbridge/spot-interruption-warning.doc.json": drain("spot-interruption", I0, {
    deadline: RECEIPT_PLUS_2,
    warns: true,
  }),
  // Hibernation starts at once: no two-minute lead.
  "eventbridge/spot-interruption-warning.hibernate.derived.json": drain("spot-interruption", I0, {
    deadline: "2025-01-15T10:00:00.000Z",
  }),
  "eventbridge/spot-interruption-warning.stop.derived.json": drain("spot-interruption", I0, {
    deadline: "2025-01-15T10:02:00.000Z",
  }),
  "eventbridge/spot-interruption-warning.terminate.derived.json": drain("spot-interruption", I0, {
    deadline: "2025-01-15T10:02:00.000Z",
  }),
  "eventbridge/spot-interruption-warning.terminate.nth-fixture.json": drain(
    "spot-interruption",
    "i-0b662ef9931388ba0",
    { deadline: "1970-01-01T00:02:00.000Z" },
  ),
  "ignore/asg-instance-launch-successful.doc-2023.json": "ignore",
  "ignore/asg-instance-refresh-checkpoint-reached.doc-2023.json": "ignore",
  "ignore/asg-instance-refresh-started.doc-2023.json": "ignore",
  "ignore/asg-instance-terminate-successful.doc-2023.json": "ignore",
  "ignore/spot-fleet-instance-change.doc.json": "ignore",
  "ignore/spot-instance-request-fulfillment.doc.json": "ignore",
  "sns-wrapped/sns-envelope.raw-delivery-disabled.doc.json": "ignore",
  "sns-wrapped/sns-envelope.raw-delivery-enabled-body.doc.txt": "ignore",
  "sns-wrapped/sns-envelope.sqs-subscriber.doc.json": "ignore",
  "sns-wrapped/sns-wrapped.asg-lifecycle-notification.terminating.composed.json": asgTerm(
    "i-0598c7d356eba48d7",
    { sns: true },
  ),
  "sns-wrapped/sns-wrapped.spot-interruption-warning.terminate.composed.json": drain(
    "spot-interruption",
    I0,
    { deadline: "2025-01-15T10:02:00.000Z", sns: true },
  ),
};

function fixtureFiles(): string[] {
  return readdirSync(SQS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(SQS, d.name)).map((f) => `${d.name}/${f}`))
    .sort();
}

function parseFixture(file: string): Parsed {
  return parseQueueMessage(readAwsEvent(`sqs/${file}`), RECEIVED);
}

describe("SQS fixtures", () => {
  it("every fixture file has an expectation, and every expectation a file", () => {
    assert.deepEqual(fixtureFiles(), Object.keys(EXPECTED).sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`${file} → ${typeof expected === "string" ? expected : `${expected.kind}/${expected.action}`}`, () => {
      const parsed = parseFixture(file);
      if (expected === "ignore") {
        assert.ok(
          !parsed.ok && "ignore" in parsed,
          `expected ignore, got ${JSON.stringify(parsed)}`,
        );
        assert.ok(parsed.ignore.length > 10, "ignore reason is a sentence");
        return;
      }
      if (expected === "error") {
        assert.ok(!parsed.ok && "error" in parsed, `expected error, got ${JSON.stringify(parsed)}`);
        return;
      }
      assert.ok(parsed.ok, `expected notices, got ${JSON.stringify(parsed)}`);
      assert.deepEqual(
        parsed.notices.map((n) => n.instanceId),
        expected.ids,
      );
      for (const n of parsed.notices) {
        assert.equal(n.kind, expected.kind);
        assert.equal(n.action, expected.action);
        assert.equal(n.source, "queue");
        assert.equal(n.receivedAt, RECEIVED);
        assert.ok(n.id.endsWith(`_${n.instanceId}`), `id ${n.id} names the instance`);
        assert.equal(n.deadline?.toISOString(), expected.deadline);
      }
      assert.equal((parsed.warnings?.length ?? 0) > 0, expected.warns === true, "warnings");
      assert.equal(
        parsed.description.startsWith("SNS envelope unwrapped; inner: "),
        !!expected.sns,
      );
    });
  }
});

describe("notice facts", () => {
  it("ids are stable across redeliveries of the same body", () => {
    for (const file of Object.keys(EXPECTED)) {
      const a = parseFixture(file);
      const b = parseQueueMessage(readAwsEvent(`sqs/${file}`), new Date("2030-01-01T00:00:00Z"));
      if (a.ok && b.ok) {
        assert.deepEqual(
          a.notices.map((n) => n.id),
          b.notices.map((n) => n.id),
        );
      }
    }
  });

  it("spot detail carries the event id, instance-action, account and region", () => {
    const parsed = parseFixture("eventbridge/spot-interruption-warning.stop.derived.json");
    assert.ok(parsed.ok);
    const [n] = parsed.notices;
    assert.equal(n?.id, "12345678-1234-1234-1234-123456789012_i-1234567890abcdef0");
    assert.equal(n?.eventTime?.toISOString(), "2025-01-15T10:00:00.000Z");
    assert.deepEqual(
      { ...n?.detail },
      {
        eventId: "12345678-1234-1234-1234-123456789012",
        eventSource: "aws.ec2",
        detailType: "EC2 Spot Instance Interruption Warning",
        account: "123456789012",
        region: "us-east-2",
        instanceAction: "stop",
      },
    );
  });

  it("state-change detail carries the state", () => {
    const parsed = parseFixture("eventbridge/ec2-state-change.stopping.derived.json");
    assert.ok(parsed.ok);
    assert.equal(parsed.notices[0]?.detail.state, "stopping");
  });

  it("EventBridge terminate lifecycle action yields what CompleteLifecycleAction needs", () => {
    const parsed = parseFixture("eventbridge/asg-terminate-lifecycle-action.nth-fixture.json");
    assert.ok(parsed.ok);
    const [n] = parsed.notices;
    assert.ok(n);
    assert.deepEqual(lifecycleActionOf(n), {
      autoScalingGroupName: "testt1.demo-0a20f32c.kops.sh",
      lifecycleHookName: "cluster-termination-handler",
      lifecycleActionToken: "0befcbdb-6ecd-498a-9ff7-ae9b54447cd6",
      instanceId: "i-0633ac2b0d9769723",
      transition: "autoscaling:EC2_INSTANCE_TERMINATING",
    });
  });

  it("direct and SNS-wrapped hook messages carry the same lifecycle action and id", () => {
    const direct = parseFixture("asg-direct/lifecycle-notification.terminating.derived.json");
    const wrapped = parseFixture(
      "sns-wrapped/sns-wrapped.asg-lifecycle-notification.terminating.composed.json",
    );
    assert.ok(direct.ok && wrapped.ok);
    const [d] = direct.notices;
    const [w] = wrapped.notices;
    assert.ok(d && w);
    assert.equal(d.id, w.id);
    assert.deepEqual(lifecycleActionOf(d), lifecycleActionOf(w));
    assert.equal(lifecycleActionOf(d)?.lifecycleHookName, "my-hook");
    assert.equal(w.detail.snsTopicArn, "arn:aws:sns:us-east-2:111122223333:ExampleTopic1");
  });

  it("a terminate action without a token is completed by instance id, in either shape", () => {
    for (const file of [
      "eventbridge/asg-terminate-lifecycle-action.no-token.derived.json",
      "asg-direct/lifecycle-notification.terminating.no-token.derived.json",
    ]) {
      const parsed = parseFixture(file);
      assert.ok(parsed.ok, file);
      const [n] = parsed.notices;
      assert.ok(n);
      assert.equal(n.action, "drain");
      const action = lifecycleActionOf(n);
      assert.ok(action, `${file}: a lifecycle action to complete`);
      assert.equal(action.lifecycleActionToken, undefined);
      assert.equal(action.instanceId, n.instanceId);
      assert.match(parsed.warnings?.join(" ") ?? "", /completed by instance id/);
    }
  });

  it("a running instance's state change is ignored by its state, whatever its id", () => {
    const parsed = parseFixture(
      "eventbridge/ec2-state-change.running.malformed-instance-id.derived.json",
    );
    assert.ok(!parsed.ok && "ignore" in parsed);
    assert.match(parsed.ignore, /"running"/);
  });

  it("launch actions record warm-pool origin and destination", () => {
    const parsed = parseFixture(
      "eventbridge/asg-launch-lifecycle-action.warmpool-ec2-to-warmpool.doc.json",
    );
    assert.ok(parsed.ok);
    const [n] = parsed.notices;
    assert.ok(n);
    assert.equal(n.detail.origin, "EC2");
    assert.equal(n.detail.destination, "WarmPool");
    assert.equal(lifecycleActionOf(n)?.transition, "autoscaling:EC2_INSTANCE_LAUNCHING");
  });

  it("non-lifecycle notices have no lifecycle action", () => {
    const parsed = parseFixture("eventbridge/rebalance-recommendation.derived.json");
    assert.ok(parsed.ok && parsed.notices[0]);
    assert.equal(lifecycleActionOf(parsed.notices[0]), undefined);
  });

  it("ignore reasons say why", () => {
    const pending = parseFixture("eventbridge/ec2-state-change.pending.doc.json");
    assert.ok(!pending.ok && "ignore" in pending);
    assert.match(pending.ignore, /"pending"/);
    const fleet = parseFixture("ignore/spot-fleet-instance-change.doc.json");
    assert.ok(!fleet.ok && "ignore" in fleet);
    assert.match(fleet.ignore, /aws\.ec2spotfleet/);
  });
});
