/** `nthd explain`: argument parsing and classification (pure parts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExplainArgs } from "../../src/commands/explain/args.ts";
import { classify } from "../../src/commands/explain/classify.ts";
import { readAwsEvent } from "../support/fixtures.ts";

const OPTS = { receivedAt: new Date("2025-06-01T00:00:00Z"), instanceId: "i-0123456789abcdef0" };
const fixture = (path: string) => readAwsEvent(path);

describe("explain arguments", () => {
  it("defaults to sqs, text output", () => {
    const r = parseExplainArgs(["a.json", "-"]);
    assert.ok(r.ok);
    assert.equal(r.options.source, "sqs");
    assert.equal(r.options.json, false);
    assert.deepEqual(r.options.files, ["a.json", "-"]);
  });

  it("accepts --source X, --source=X, --json and -- before dash-named files", () => {
    const r = parseExplainArgs(["--source=imds-spot", "--json", "--", "-weird.json"]);
    assert.ok(r.ok);
    assert.equal(r.options.source, "imds-spot");
    assert.equal(r.options.json, true);
    assert.deepEqual(r.options.files, ["-weird.json"]);
    const s = parseExplainArgs(["--source", "imds-scheduled", "f"]);
    assert.ok(s.ok && s.options.source === "imds-scheduled");
  });

  it("rejects unknown flags, unknown sources, missing values and no input", () => {
    const cases: [string[], RegExp][] = [
      [["--bogus", "f"], /^unknown option '--bogus'$/],
      [["--jsno", "f"], /^unknown option '--jsno' \(did you mean --json\?\)$/],
      [["--source", "kafka", "f"], /"kafka" is not one of sqs, imds-spot/],
      [["f", "--source"], /^option --source needs a value$/],
      [["--json=maybe", "f"], /expected true or false/],
      [[], /no input/],
    ];
    for (const [args, message] of cases) {
      const r = parseExplainArgs(args);
      assert.ok(!r.ok, args.join(" "));
      assert.match(r.message, message);
    }
  });

  it("--help needs no files", () => {
    const r = parseExplainArgs(["--help"]);
    assert.ok(r.ok && r.options.help);
  });
});

describe("explain classification", () => {
  it("a Spot warning: handle, drain, deadline two minutes after the event", () => {
    const c = classify(
      "sqs",
      fixture("sqs/eventbridge/spot-interruption-warning.terminate.derived.json"),
      OPTS,
    );
    assert.equal(c.disposition, "handle");
    assert.deepEqual(c.kinds, ["spot-interruption"]);
    assert.deepEqual(c.instanceIds, ["i-1234567890abcdef0"]);
    assert.equal(c.action, "drain");
    assert.equal(c.deadline, "2025-01-15T10:02:00.000Z");
    assert.match(c.reason, /cordon and drain the node/);
    assert.equal(c.notices.length, 1);
  });

  it("a rebalance recommendation from the queue: drained, as NTH does; no deadline", () => {
    const c = classify(
      "sqs",
      fixture("sqs/eventbridge/rebalance-recommendation.derived.json"),
      OPTS,
    );
    assert.equal(c.action, "drain");
    assert.equal(c.deadline, null);
  });

  it("doc placeholders are handled and the tolerated oddity is named", () => {
    const c = classify("sqs", fixture("sqs/eventbridge/spot-interruption-warning.doc.json"), OPTS);
    assert.equal(c.disposition, "handle");
    assert.equal(c.deadline, "2025-06-01T00:02:00.000Z");
    assert.match(c.reason, /tolerated: .*yyyy-mm-ddThh:mm:ssZ/);
    assert.ok(c.warnings.length >= 1);
  });

  it("a launch hook: complete-launch, never drain", () => {
    const c = classify(
      "sqs",
      fixture("sqs/eventbridge/asg-launch-lifecycle-action.warmpool-ec2-to-asg.doc.json"),
      OPTS,
    );
    assert.equal(c.action, "complete-launch");
    assert.match(c.reason, /no drain/);
  });

  it("known and irrelevant: ignore-delete with the reason", () => {
    const c = classify(
      "sqs",
      fixture("sqs/ignore/spot-instance-request-fulfillment.doc.json"),
      OPTS,
    );
    assert.equal(c.disposition, "ignore-delete");
    assert.deepEqual(c.kinds, []);
    assert.match(c.reason, /"EC2 Spot Instance Request Fulfillment": not a kind nthd acts on/);
    assert.match(c.reason, /deleted/);
  });

  it("malformed: keep, the reason names the fault", () => {
    const c = classify("sqs", '{"source": "aws.ec2", ', OPTS);
    assert.equal(c.disposition, "keep");
    assert.equal(c.action, null);
    assert.equal(c.deadline, null);
    assert.match(c.reason, /not JSON at byte 22/);
    assert.match(c.reason, /dead-letter queue/);
  });

  it("AWS Health fan-out lists every instance", () => {
    const body = JSON.stringify({
      id: "h-1",
      source: "aws.health",
      "detail-type": "AWS Health Event",
      time: "2025-01-01T00:00:00Z",
      detail: {
        service: "EC2",
        eventTypeCategory: "scheduledChange",
        startTime: "Wed, 22 Jan 2025 08:00:00 GMT",
        affectedEntities: [{ entityValue: "i-11111111" }, { entityValue: "i-22222222" }],
      },
    });
    const c = classify("sqs", body, OPTS);
    assert.deepEqual(c.instanceIds, ["i-11111111", "i-22222222"]);
    assert.equal(c.deadline, "2025-01-22T08:00:00.000Z");
    assert.match(c.reason, /cordon and drain 2 nodes/);
  });

  it("IMDS sources use the IMDS parsers and the given instance id", () => {
    const spot = classify(
      "imds-spot",
      fixture("imds/spot-instance-action.terminate.doc.json"),
      OPTS,
    );
    assert.equal(spot.disposition, "handle");
    assert.deepEqual(spot.instanceIds, ["i-0123456789abcdef0"]);
    assert.equal(spot.action, "drain");
    const state = classify(
      "imds-asg-target-state",
      fixture("imds/asg-target-lifecycle-state/InService.doc.txt"),
      OPTS,
    );
    assert.equal(state.disposition, "ignore-delete");
    assert.match(state.reason, /nothing to do/);
    const wrong = classify("imds-rebalance", "not json", OPTS);
    assert.equal(wrong.disposition, "keep");
  });
});
