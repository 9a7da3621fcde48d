/**
 * Property-based test of `nthd explain`'s classifier: any source, any body
 * (from scratch or mutated from every fixture, SQS and IMDS alike). Every
 * case: no throw, at most 50 ms, a disposition that is handle,
 * ignore-delete or keep with a reason, never "parser failure", and a result
 * the command can print as JSON.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { classify, EXPLAIN_SOURCES } from "../../src/commands/explain/classify.ts";
import { AWS_EVENTS_DIR, readAwsEvent } from "../support/fixtures.ts";
import { assertProperty, CaseTimer, fuzzParams } from "../support/fuzz.ts";
import { anyJson, anyString, mutatedBody } from "../support/fuzz-inputs.ts";

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full) : [relative(AWS_EVENTS_DIR, full)];
  });
}
const FIXTURES = listFiles(AWS_EVENTS_DIR)
  .filter((f) => f.startsWith("sqs/") || (f.startsWith("imds/") && !f.startsWith("imds/imdsv2/")))
  .map((f) => readAwsEvent(f));

const DISPOSITIONS = new Set(["handle", "ignore-delete", "keep"]);
const opts = { receivedAt: new Date("2025-06-01T00:00:00Z"), instanceId: "i-1234567890abcdef0" };

const body = fc.oneof(
  anyString,
  anyJson.map((v) => JSON.stringify(v) ?? "null"),
  mutatedBody(FIXTURES),
);

describe("nthd explain, fuzzed", () => {
  it("classifies any body from any source as handle, ignore-delete or keep", (t) => {
    const timer = new CaseTimer();
    const seen: Record<string, number> = {};
    assertProperty(
      fc.property(fc.constantFrom(...EXPLAIN_SOURCES), body, (source, text) => {
        const c = timer.run(text, (b) => classify(source, b, opts));
        if (!DISPOSITIONS.has(c.disposition)) throw new Error(`disposition ${c.disposition}`);
        if (c.reason === "" || c.reason.startsWith("parser failure")) {
          throw new Error(`reason: ${c.reason}`);
        }
        if ((c.disposition === "handle") !== c.notices.length > 0) {
          throw new Error("notices only when handled");
        }
        JSON.stringify(c); // what the command prints
        seen[c.disposition] = (seen[c.disposition] ?? 0) + 1;
      }),
      fuzzParams(),
    );
    t.diagnostic(`${timer.summary("explain")} ${JSON.stringify(seen)}`);
  });
});
