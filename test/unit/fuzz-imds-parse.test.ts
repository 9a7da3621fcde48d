/**
 * Property-based tests of the four IMDS item parsers: bodies generated from
 * scratch and mutated from every IMDS fixture (keys dropped, wrong types,
 * huge strings, deep nesting, odd Unicode, text cut and spliced), each fed
 * to every parser (a proxy may answer any item with any body). Every case:
 * no throw, at most 50 ms, an answer that is handle, ignore or error and
 * well formed, with notices only for this instance.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type ParseContext,
  parseAsgTargetLifecycleState,
  parseRebalanceRecommendation,
  parseScheduledEvents,
  parseSpotInstanceAction,
} from "../../src/sources/imds/parse.ts";
import { awsEventPath, readAwsEvent } from "../support/fixtures.ts";
import { assertProperty, CaseTimer, checkParsed, fuzzParams, Tally } from "../support/fuzz.ts";
import { anyJson, anyString, mutatedBody } from "../support/fuzz-inputs.ts";

const ctx: ParseContext = {
  instanceId: "i-1234567890abcdef0",
  receivedAt: new Date("2025-01-15T10:00:00Z"),
};

const IMDS = awsEventPath("imds");
function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full) : [relative(IMDS, full)];
  });
}
// The imdsv2/*.http files are whole HTTP exchanges for the client, not item bodies.
const FIXTURES = listFiles(IMDS)
  .filter((f) => !f.startsWith("imdsv2/"))
  .map((f) => readAwsEvent(`imds/${f}`));

const PARSERS = {
  "spot/instance-action": parseSpotInstanceAction,
  "events/recommendations/rebalance": parseRebalanceRecommendation,
  "events/maintenance/scheduled": parseScheduledEvents,
  "autoscaling/target-lifecycle-state": parseAsgTargetLifecycleState,
};

/** Item-shaped bodies: the fields each item has, with any values. */
const itemShaped = fc.oneof(
  fc
    .record({ action: anyJson, time: fc.oneof(anyString, anyJson) }, { requiredKeys: [] })
    .map((o) => JSON.stringify(o)),
  fc.record({ noticeTime: fc.oneof(anyString, anyJson) }).map((o) => JSON.stringify(o)),
  fc
    .array(
      fc.record(
        {
          Code: fc.oneof(fc.constantFrom("system-reboot", "instance-stop"), anyString),
          State: fc.oneof(fc.constantFrom("active", "canceled", "completed"), anyJson),
          EventId: fc.oneof(fc.constant("instance-event-0d59937288b749b32"), anyString),
          NotBefore: fc.oneof(fc.constant("21 Jan 2019 09:00:43 GMT"), anyString),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 20 },
    )
    .map((a) => JSON.stringify(a)),
  fc.constantFrom("Terminated", "InService", "Warmed:Stopped", "Warmed:", ":x"),
);

const fromScratch = fc.oneof(
  anyString,
  anyJson.map((v) => JSON.stringify(v) ?? "null"),
  itemShaped,
);

function property(name: string, arb: fc.Arbitrary<string>) {
  it(name, (t) => {
    for (const [item, parse] of Object.entries(PARSERS)) {
      const timer = new CaseTimer();
      const tally = new Tally();
      assertProperty(
        fc.property(arb, (body) => {
          tally.add(
            checkParsed(
              timer.run(body, (b) => parse(b, ctx)),
              { source: "imds", instanceId: ctx.instanceId },
            ),
          );
        }),
        fuzzParams(),
      );
      t.diagnostic(`${timer.summary(`imds ${item} ${name}`)} ${tally}`);
    }
  });
}

describe("IMDS parsers, fuzzed", () => {
  property("bodies from scratch", fromScratch);
  property("bodies mutated from every fixture", mutatedBody(FIXTURES));
});
