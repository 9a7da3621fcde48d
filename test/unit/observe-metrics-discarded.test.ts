// A process that will not serve metrics discards them: recorders become no-ops
// and nothing is kept. (Its own file: the decision is process-wide.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { countNoticeReceived, discardMetrics, loadMetrics } from "../../src/observe/metrics.ts";

test("discarded metrics keep nothing; loading later counts from then on", async () => {
  countNoticeReceived("rebalance-recommendation", "imds");
  discardMetrics();
  countNoticeReceived("rebalance-recommendation", "imds");
  const m = await loadMetrics();
  assert.deepEqual((await m.noticesReceived.get()).values, []);
  countNoticeReceived("rebalance-recommendation", "imds");
  assert.equal((await m.noticesReceived.get()).values[0]?.value, 1);
});
