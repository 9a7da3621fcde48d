import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { staleAfterMs, startAnswerWatchdog } from "../../src/modes/answer-watchdog.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("answer watchdog: readiness follows the metadata service after start-up", () => {
  it("waits several poll intervals, and at least 30 s, before calling silence stale", () => {
    assert.equal(staleAfterMs(2_000), 30_000);
    assert.equal(staleAfterMs(10_000), 50_000);
  });

  it("reports silence past the window, and an answer afterwards once", async () => {
    let clock = 0;
    const events: string[] = [];
    const stop = new AbortController();
    const w = startAnswerWatchdog({
      staleAfterMs: 100,
      checkEveryMs: 5,
      signal: stop.signal,
      now: () => clock,
      onStale: (ms) => events.push(`stale ${ms}`),
      onFresh: () => events.push("fresh"),
    });
    clock = 99;
    await tick(20);
    assert.deepEqual(events, [], "not stale inside the window");
    w.answered();
    assert.deepEqual(events, [], "an answer while fresh reports nothing");
    clock = 250;
    await tick(20);
    assert.ok(events.length >= 1 && events[0] === "stale 151", events.join(", "));
    w.answered();
    w.answered();
    assert.equal(events.filter((e) => e === "fresh").length, 1);
    const seen = events.length;
    stop.abort();
    clock = 1_000;
    await tick(20);
    assert.equal(events.length, seen, "nothing after the signal aborts");
  });
});
