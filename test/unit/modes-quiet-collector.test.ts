// The collection queue mode runs when work falls quiet: once per burst, after
// the quiet period, never while touches (notices, ends of work) keep coming.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { quietCollector } from "../../src/modes/quiet-collector.ts";

describe("quiet collector", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  function setup() {
    let collections = 0;
    const q = quietCollector({ quietMs: 30_000, collect: () => collections++ });
    return { q, collections: () => collections };
  }

  test("nothing happens without work", () => {
    const { collections } = setup();
    mock.timers.tick(600_000);
    assert.equal(collections(), 0);
  });

  test("one collection, the quiet period after the last notice", () => {
    const { q, collections } = setup();
    q.touch();
    mock.timers.tick(29_999);
    assert.equal(collections(), 0);
    mock.timers.tick(1);
    assert.equal(collections(), 1);
    mock.timers.tick(600_000);
    assert.equal(collections(), 1, "once per burst, not periodic");
  });

  test("a storm of notices postpones it until the storm is over", () => {
    const { q, collections } = setup();
    for (let i = 0; i < 100; i++) {
      q.touch();
      mock.timers.tick(10_000);
    }
    assert.equal(collections(), 0, "never while notices keep coming");
    mock.timers.tick(20_000);
    assert.equal(collections(), 1);
  });

  test("a touch while the timer runs moves the collection, without a second one", () => {
    const { q, collections } = setup();
    q.touch();
    mock.timers.tick(20_000);
    q.touch(); // e.g. the drain the notice started ended
    mock.timers.tick(29_999);
    assert.equal(collections(), 0);
    mock.timers.tick(1);
    assert.equal(collections(), 1);
    mock.timers.tick(600_000);
    assert.equal(collections(), 1);
  });

  test("work after a collection arms the next one", () => {
    const { q, collections } = setup();
    q.touch();
    mock.timers.tick(30_000);
    q.touch();
    mock.timers.tick(30_000);
    assert.equal(collections(), 2);
  });

  test("stopped: no collection, and later touches arm nothing", () => {
    const { q, collections } = setup();
    q.touch();
    q.stop();
    q.touch();
    mock.timers.tick(600_000);
    assert.equal(collections(), 0);
  });
});
