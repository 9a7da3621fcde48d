import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExpiringCache } from "../../src/sources/queue/expiring-cache.ts";
import { instanceFacts } from "../../src/sources/queue/instances.ts";

function clockAt(start: number) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe("expiring cache", () => {
  test("an entry is live for its own time to live, then gone", () => {
    const clock = clockAt(1_000);
    const cache = new ExpiringCache<string, number>({
      now: clock.now,
      sweepEveryMs: 60_000,
      maxEntries: 10,
    });
    cache.set("a", 1, 100);
    cache.set("b", 2, 500);
    assert.deepEqual(cache.get("a"), { value: 1 });
    assert.equal(cache.remainingMs("b"), 500);
    clock.t += 100;
    assert.equal(cache.get("a"), undefined, "lapsed at its time to live");
    assert.deepEqual(cache.get("b"), { value: 2 });
    assert.equal(cache.remainingMs("b"), 400);
    assert.equal(cache.remainingMs("a"), 0);
  });

  test("an undefined value is an answer, told apart from a miss", () => {
    const clock = clockAt(0);
    const cache = new ExpiringCache<string, number | undefined>({
      now: clock.now,
      sweepEveryMs: 60_000,
      maxEntries: 10,
    });
    cache.set("unknown", undefined, 100);
    assert.deepEqual(cache.get("unknown"), { value: undefined });
    assert.equal(cache.get("never-set"), undefined);
  });

  test("entries never read again are forgotten once they lapse (instances that came and went)", () => {
    const clock = clockAt(0);
    const cache = new ExpiringCache<string, number>({
      now: clock.now,
      sweepEveryMs: 60_000,
      maxEntries: 1_000_000,
    });
    // A day of churn: a new instance every minute, each looked up once, kept 10 minutes.
    for (let minute = 0; minute < 24 * 60; minute++) {
      clock.t = minute * 60_000;
      cache.set(`i-${minute}`, minute, 10 * 60_000);
    }
    assert.ok(cache.size <= 12, `held ${cache.size} entries after a day, expected about 10`);
    assert.deepEqual(cache.get(`i-${24 * 60 - 1}`), { value: 24 * 60 - 1 });
  });

  test("sweeps at most once per interval, on a write", () => {
    const clock = clockAt(0);
    const cache = new ExpiringCache<string, number>({
      now: clock.now,
      sweepEveryMs: 1_000,
      maxEntries: 100,
    });
    cache.set("short", 1, 10);
    clock.t = 500;
    cache.set("other", 2, 10_000);
    assert.equal(cache.size, 2, "lapsed but not yet swept: too soon");
    clock.t = 1_000;
    cache.set("third", 3, 10_000);
    assert.equal(cache.size, 2, "swept on the write after the interval");
    assert.equal(cache.get("short"), undefined);
  });

  test("past the cap the entries written longest ago are dropped; a rewrite counts as new", () => {
    const clock = clockAt(0);
    const cache = new ExpiringCache<string, number>({
      now: clock.now,
      sweepEveryMs: 60_000,
      maxEntries: 3,
    });
    cache.set("a", 1, 10_000);
    cache.set("b", 2, 10_000);
    cache.set("c", 3, 10_000);
    cache.set("a", 11, 10_000); // refreshed: now the newest
    cache.set("d", 4, 10_000);
    assert.equal(cache.size, 3);
    assert.equal(cache.get("b"), undefined, "the oldest write went");
    assert.deepEqual(cache.get("a"), { value: 11 });
    assert.deepEqual(cache.get("c"), { value: 3 });
    assert.deepEqual(cache.get("d"), { value: 4 });
  });

  test("refuses a cap below one", () => {
    assert.throws(
      () => new ExpiringCache({ now: () => 0, sweepEveryMs: 1, maxEntries: 0 }),
      /maxEntries 0 must be >= 1/,
    );
  });
});

describe("instance facts", () => {
  test("keeps only the tags asked for, and the fields the resolver uses", () => {
    const facts = instanceFacts(
      {
        InstanceId: "i-0123456789abcdef0",
        PrivateDnsName: "ip-10-0-0-1.ec2.internal",
        State: { Name: "running" },
        LaunchTime: new Date("2026-12-01T00:00:00Z"),
        Tags: [
          { Key: "aws-node-termination-handler/managed", Value: "" },
          { Key: "kubernetes.io/cluster/prod", Value: "owned" },
          { Key: "aws:cloudformation:stack-id", Value: "x".repeat(256) },
        ],
      },
      ["aws-node-termination-handler/managed"],
    );
    assert.deepEqual(facts, {
      instanceId: "i-0123456789abcdef0",
      privateDnsName: "ip-10-0-0-1.ec2.internal",
      state: "running",
      tags: new Map([["aws-node-termination-handler/managed", ""]]),
      launchedAtMs: Date.parse("2026-12-01T00:00:00Z"),
    });
  });

  test("an empty private DNS name is none; an answer without an id is skipped", () => {
    assert.equal(
      instanceFacts({ InstanceId: "i-1", PrivateDnsName: "" }, [])?.privateDnsName,
      undefined,
    );
    assert.equal(instanceFacts({ PrivateDnsName: "ip-10-0-0-2" }, []), undefined);
  });
});
