/**
 * Queue parser behaviour beyond the fixtures: malformed input, fan-out,
 * the kinds without a fixture file, and the registry export.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Parsed } from "../../src/sources/parse-result.ts";
import {
  HANDLED_EVENT_TYPES,
  lifecycleActionOf,
  MAX_BODY_BYTES,
  parseQueueMessage,
} from "../../src/sources/queue/parse.ts";
import {
  instanceIdIn,
  parseHttpDate,
  parseRfc3339,
} from "../../src/sources/queue/parsers/fields.ts";
import { jsonErrorIndex } from "../../src/sources/queue/parsers/json-error.ts";

const NOW = new Date("2025-06-01T00:00:00Z");
const parse = (body: string): Parsed => parseQueueMessage(body, NOW);

function spot(overrides: Record<string, unknown> = {}, detail: Record<string, unknown> = {}) {
  return JSON.stringify({
    version: "0",
    id: "aaaa-1",
    "detail-type": "EC2 Spot Instance Interruption Warning",
    source: "aws.ec2",
    account: "123456789012",
    time: "2025-01-15T10:00:00Z",
    region: "us-east-2",
    resources: [],
    detail: { "instance-id": "i-1234567890abcdef0", "instance-action": "terminate", ...detail },
    ...overrides,
  });
}

function health(detail: Record<string, unknown>, resources: string[] = []) {
  return JSON.stringify({
    version: "0",
    id: "health-1",
    "detail-type": "AWS Health Event",
    source: "aws.health",
    account: "123456789012",
    time: "2025-01-10T00:00:00Z",
    region: "us-east-1",
    resources,
    detail: {
      eventArn: "arn:aws:health:us-east-1::event/EC2/X/Y",
      service: "EC2",
      eventTypeCode: "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
      eventTypeCategory: "scheduledChange",
      statusCode: "upcoming",
      startTime: "Wed, 22 Jan 2025 08:00:00 GMT",
      ...detail,
    },
  });
}

function errorOf(parsed: Parsed): string {
  assert.ok(!parsed.ok && "error" in parsed, `expected error, got ${JSON.stringify(parsed)}`);
  return parsed.error;
}
function ignoreOf(parsed: Parsed): string {
  assert.ok(!parsed.ok && "ignore" in parsed, `expected ignore, got ${JSON.stringify(parsed)}`);
  return parsed.ignore;
}

describe("malformed bodies are errors (kept for the dead-letter queue)", () => {
  it("empty and blank bodies", () => {
    assert.match(errorOf(parse("")), /empty/);
    assert.match(errorOf(parse("  \n\t")), /empty/);
  });

  it("broken JSON names the byte", () => {
    assert.match(errorOf(parse('{"id": "x", "source": tru}')), /not JSON at byte 22$/);
    assert.match(errorOf(parse('{"id": "x"')), /not JSON at byte 10 \(ends early\)/);
    // Multi-byte characters before the fault count as bytes, not characters.
    assert.match(errorOf(parse('{"é": x}')), /at byte 7$/);
  });

  it("the JSON fault finder points at the first bad character", () => {
    const cases: [string, number][] = [
      ['{"a":"abc', 9],
      ['{"a":"a\\qb"}', 7],
      ["[1,]", 3],
      ['{"a" 1}', 5],
      ["[1] 2", 4],
      ['{"a":1,}', 7],
      ['{"a":tru}', 5],
      ["{", 1],
      ['{"a":[1,2,{"b":null}],"c":-1.5e3}x', 33],
    ];
    for (const [text, index] of cases) assert.equal(jsonErrorIndex(text), index, text);
  });

  it("JSON that is not an object", () => {
    assert.match(errorOf(parse("[]")), /is an array/);
    assert.match(errorOf(parse('[{"source":"aws.ec2"}]')), /is an array/);
    assert.match(errorOf(parse("42")), /is a number/);
    assert.match(errorOf(parse('"text"')), /is a string/);
    assert.match(errorOf(parse("null")), /is null/);
  });

  it("an object of no known shape", () => {
    assert.match(errorOf(parse('{"hello":"world"}')), /not an EventBridge event/);
  });

  it("binary bytes", () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x80, 0x41]).toString("utf8");
    assert.match(errorOf(parse(binary)), /neither JSON nor text/);
  });

  it("missing or wrong-typed envelope fields of a handled kind", () => {
    assert.match(errorOf(parse(spot({ detail: undefined }))), /"detail" missing/);
    assert.match(errorOf(parse(spot({ detail: "x" }))), /"detail" missing or not an object/);
    assert.match(errorOf(parse(spot({ id: undefined }))), /"id" missing/);
    assert.match(errorOf(parse(spot({ time: undefined }))), /"time" missing/);
    assert.match(errorOf(parse(spot({ time: 1736935200 }))), /"time" missing or not a string/);
    assert.match(errorOf(parse(spot({ "detail-type": 7 }))), /"detail-type"/);
  });

  it("bad instance ids", () => {
    for (const bad of [
      "i-123",
      "i-1234567890ABCDEF0",
      "i-1234567890abcdef",
      "i-1234567890abcdef00",
      "[instance-id]",
      "",
      42,
      undefined,
    ]) {
      assert.match(
        errorOf(parse(spot({}, { "instance-id": bad }))),
        /instance-id is missing or not an EC2 instance id/,
        String(bad),
      );
    }
  });

  it("the error reason names the event type", () => {
    assert.match(
      errorOf(parse(spot({}, { "instance-id": "nope" }))),
      /^EC2 Spot Instance Interruption Warning: /,
    );
  });

  it("a 1 MiB body is refused by size, without parsing", () => {
    const big = `{"x":"${"a".repeat(MAX_BODY_BYTES)}"}`;
    assert.match(errorOf(parse(big)), /over the 1048576-byte SQS maximum/);
    const multibyte = `{"x":"${"é".repeat(MAX_BODY_BYTES / 2)}"}`;
    assert.match(errorOf(parse(multibyte)), /over the/);
  });

  it("a body just under the limit is parsed normally", () => {
    const padded = spot({ padding: "a".repeat(MAX_BODY_BYTES - 1000) });
    assert.ok(parse(padded).ok);
  });

  it("deeply nested JSON does not throw", () => {
    const depth = 200_000;
    const arrays = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    assert.ok(!parse(arrays).ok);
    const objects = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    assert.ok(!parse(objects).ok);
    // Nested junk inside a handled event's detail is simply not read.
    const inDetail = spot({}, { junk: JSON.parse(`${"[".repeat(1000)}${"]".repeat(1000)}`) });
    assert.ok(parse(inDetail).ok);
  });
});

describe("timestamps", () => {
  it("an unparseable event time is tolerated: receipt time + warning", () => {
    const parsed = parse(spot({ time: "yesterday" }));
    assert.ok(parsed.ok);
    assert.equal(parsed.notices[0]?.deadline?.toISOString(), "2025-06-01T00:02:00.000Z");
    assert.equal(parsed.notices[0]?.eventTime, undefined);
    assert.match(parsed.warnings?.join() ?? "", /"yesterday" is not a timestamp/);
  });

  it("RFC 3339 is strict", () => {
    assert.equal(parseRfc3339("2025-01-15T10:00:00Z")?.toISOString(), "2025-01-15T10:00:00.000Z");
    assert.equal(
      parseRfc3339("2025-01-15T10:00:00.5+02:00")?.toISOString(),
      "2025-01-15T08:00:00.500Z",
    );
    assert.equal(parseRfc3339("2025-02-30T10:00:00Z"), undefined);
    assert.equal(parseRfc3339("2025-01-15 10:00:00Z"), undefined);
    assert.equal(parseRfc3339("1"), undefined);
    assert.equal(parseRfc3339("yyyy-mm-ddThh:mm:ssZ"), undefined);
  });

  it("RFC 1123 dates as AWS Health writes them", () => {
    assert.equal(
      parseHttpDate("Sat, 05 Jun 2016 15:10:09 GMT")?.toISOString(),
      "2016-06-05T15:10:09.000Z",
    );
    assert.equal(parseHttpDate("Sat, 31 Feb 2016 15:10:09 GMT"), undefined);
    assert.equal(parseHttpDate("5 Jun 2016"), undefined);
  });
});

describe("SNS envelopes", () => {
  const sns = (message: unknown) =>
    JSON.stringify({ Type: "Notification", MessageId: "m-1", TopicArn: "arn:t", Message: message });

  it("a plain-text Message is ignored", () => {
    assert.match(ignoreOf(parse(sns("hello there"))), /^SNS envelope: SNS Message is plain text/);
  });

  it("a broken JSON Message is an error", () => {
    assert.match(errorOf(parse(sns('{"source": '))), /^SNS envelope: SNS Message is not JSON/);
  });

  it("an empty Message is an error", () => {
    assert.match(errorOf(parse(sns(""))), /SNS Message is empty/);
  });

  it("is unwrapped once, not twice", () => {
    assert.ok(parse(sns(spot())).ok);
    assert.match(errorOf(parse(sns(sns(spot())))), /SNS envelope inside an SNS envelope/);
  });

  it("a Message that is not a string is not an SNS envelope", () => {
    assert.match(errorOf(parse(sns({ a: 1 }))), /not an EventBridge event/);
  });

  it("subscription handshakes are ignored", () => {
    const body = JSON.stringify({
      Type: "SubscriptionConfirmation",
      TopicArn: "arn:t",
      Token: "x",
    });
    assert.match(ignoreOf(parse(body)), /SubscriptionConfirmation/);
  });
});

describe("AWS Health scheduled changes", () => {
  it("fans out one notice per instance, ids unique, ARNs and duplicates handled", () => {
    const parsed = parse(
      health({
        affectedEntities: [
          { entityValue: "i-0000000000000000a" },
          { entityValue: "arn:aws:ec2:us-east-1:123456789012:instance/i-0000000000000000b" },
          { entityValue: "i-0000000000000000a" },
          { entityValue: "vol-0123456789abcdef0" },
        ],
      }),
    );
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.notices.map((n) => n.instanceId),
      ["i-0000000000000000a", "i-0000000000000000b"],
    );
    assert.equal(new Set(parsed.notices.map((n) => n.id)).size, 2);
    for (const n of parsed.notices) {
      assert.equal(n.kind, "health-scheduled-change");
      assert.equal(n.action, "drain");
      assert.equal(n.deadline?.toISOString(), "2025-01-22T08:00:00.000Z");
      assert.equal(n.detail.eventTypeCode, "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
    }
  });

  it("falls back to resources when affectedEntities is absent", () => {
    const parsed = parse(health({}, ["i-0000000000000000c"]));
    assert.ok(parsed.ok);
    assert.equal(parsed.notices[0]?.instanceId, "i-0000000000000000c");
  });

  it("accepts an RFC 3339 startTime", () => {
    const parsed = parse(
      health({
        startTime: "2025-01-22T08:00:00Z",
        affectedEntities: [{ entityValue: "i-12345678" }],
      }),
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.notices[0]?.deadline?.toISOString(), "2025-01-22T08:00:00.000Z");
  });

  it("an unusable startTime drains without a deadline, with a warning", () => {
    const parsed = parse(
      health({ startTime: "soon", affectedEntities: [{ entityValue: "i-12345678" }] }),
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.notices[0]?.deadline, undefined);
    assert.match(parsed.warnings?.join() ?? "", /startTime "soon"/);
  });

  it("ignores other services, other categories, closed events and events naming no instance", () => {
    assert.equal(
      ignoreOf(parse(health({ service: "RDS" }))),
      'AWS Health event for service "RDS": not EC2',
    );
    assert.match(ignoreOf(parse(health({ eventTypeCategory: "issue" }))), /not scheduledChange/);
    assert.match(
      ignoreOf(
        parse(health({ statusCode: "closed", affectedEntities: [{ entityValue: "i-12345678" }] })),
      ),
      /closed/,
    );
    assert.match(ignoreOf(parse(health({ affectedEntities: [] }))), /names no EC2 instance/);
  });
});

describe("capacity reservation interruption", () => {
  const cr = (detailType: string, detail: Record<string, unknown>) =>
    JSON.stringify({
      version: "0",
      id: "cr-event-1",
      "detail-type": detailType,
      source: "aws.ec2",
      account: "123456789012",
      time: "2025-03-01T12:00:00Z",
      resources: "arn:aws:ec2:us-east-1:123456789012:instance/i-0abcdef1234567890",
      region: "us-east-1",
      detail: { "instance-id": "i-0abcdef1234567890", "instance-action": "terminate", ...detail },
    });

  it("drains by instance-termination-time", () => {
    const parsed = parse(
      cr("EC2 Capacity Reservation Instance Interruption Warning", {
        "instance-termination-time": "2025-03-01T12:02:00Z",
        azId: "use1-az1",
      }),
    );
    assert.ok(parsed.ok);
    const [n] = parsed.notices;
    assert.equal(n?.kind, "capacity-reservation-interruption");
    assert.equal(n?.action, "drain");
    assert.equal(n?.deadline?.toISOString(), "2025-03-01T12:02:00.000Z");
    assert.equal(n?.detail.azId, "use1-az1");
  });

  it("accepts the alternate detail-type and assumes two minutes without a termination time", () => {
    const parsed = parse(
      cr("EC2 Interruptible Capacity Reservation Instance Interruption Warning", {
        "instance-termination-time": "yyyy-mm-ddThh:mm:ssZ",
      }),
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.notices[0]?.deadline?.toISOString(), "2025-03-01T12:02:00.000Z");
    assert.ok((parsed.warnings?.length ?? 0) > 0);
  });
});

describe("Auto Scaling lifecycle messages", () => {
  const direct = (fields: Record<string, unknown>) =>
    JSON.stringify({
      LifecycleActionToken: "tok-1",
      AutoScalingGroupName: "g",
      LifecycleHookName: "h",
      EC2InstanceId: "i-0598c7d356eba48d7",
      LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
      ...fields,
    });

  it("an unknown transition is an error", () => {
    assert.match(
      errorOf(parse(direct({ LifecycleTransition: "autoscaling:EC2_INSTANCE_REBOOTING" }))),
      /not a known transition/,
    );
  });

  it("a missing token still drains, completed by instance id, with a warning", () => {
    const parsed = parse(direct({ LifecycleActionToken: undefined }));
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const [n] = parsed.notices;
    assert.equal(n?.action, "drain");
    assert.equal(n && lifecycleActionOf(n)?.lifecycleActionToken, undefined);
    assert.equal(n && lifecycleActionOf(n)?.instanceId, "i-0598c7d356eba48d7");
    assert.match(parsed.warnings?.join() ?? "", /LifecycleActionToken missing/);
  });

  it("a missing hook name still drains, but leaves nothing to complete", () => {
    const parsed = parse(direct({ LifecycleHookName: undefined }));
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const [n] = parsed.notices;
    assert.equal(n?.action, "drain");
    assert.equal(n && lifecycleActionOf(n), undefined);
    assert.match(parsed.warnings?.join() ?? "", /cannot be completed/);
  });

  it("a bad instance id is an error", () => {
    assert.match(errorOf(parse(direct({ EC2InstanceId: "i-xyz" }))), /EC2InstanceId/);
  });

  it("scaling notifications (no hook) are informational", () => {
    const body = JSON.stringify({
      Event: "autoscaling:EC2_INSTANCE_TERMINATE",
      AutoScalingGroupName: "g",
      EC2InstanceId: "i-0598c7d356eba48d7",
    });
    assert.match(ignoreOf(parse(body)), /informational/);
  });

  it("an EventBridge terminate event whose detail says launching is an error", () => {
    const body = JSON.stringify({
      id: "e-1",
      source: "aws.autoscaling",
      "detail-type": "EC2 Instance-terminate Lifecycle Action",
      time: "2025-01-01T00:00:00Z",
      detail: JSON.parse(direct({ LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING" })),
    });
    assert.match(errorOf(parse(body)), /expected "autoscaling:EC2_INSTANCE_TERMINATING"/);
  });
});

describe("registry", () => {
  it("exports every handled (source, detail-type) pair", () => {
    const pairs = HANDLED_EVENT_TYPES.map((t) => `${t.source} | ${t.detailType} | ${t.kind}`);
    assert.deepEqual(pairs.sort(), [
      "aws.autoscaling | EC2 Instance-launch Lifecycle Action | asg-launch",
      "aws.autoscaling | EC2 Instance-terminate Lifecycle Action | asg-terminate",
      "aws.ec2 | EC2 Capacity Reservation Instance Interruption Warning | capacity-reservation-interruption",
      "aws.ec2 | EC2 Instance Rebalance Recommendation | rebalance-recommendation",
      "aws.ec2 | EC2 Instance State-change Notification | instance-state-change",
      "aws.ec2 | EC2 Interruptible Capacity Reservation Instance Interruption Warning | capacity-reservation-interruption",
      "aws.ec2 | EC2 Spot Instance Interruption Warning | spot-interruption",
      "aws.health | AWS Health Event | health-scheduled-change",
    ]);
  });

  it("a handled detail-type from another source is not handled", () => {
    assert.match(ignoreOf(parse(spot({ source: "custom.app" }))), /not a kind nthd acts on/);
  });

  it("instance ARNs", () => {
    assert.equal(
      instanceIdIn("arn:aws:ec2:us-east-1b:instance/i-0b662ef9931388ba0"),
      "i-0b662ef9931388ba0",
    );
    assert.equal(instanceIdIn("arn:aws-cn:ec2:cn-north-1:1:instance/i-12345678"), "i-12345678");
    assert.equal(instanceIdIn("arn:aws:ec2:us-east-1:1:volume/vol-12345678"), undefined);
  });
});
