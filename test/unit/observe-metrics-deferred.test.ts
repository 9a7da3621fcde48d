// Before start-up decides whether metrics are served, recorders keep what
// they count; loading the metrics applies it. (Its own file: the decision is
// process-wide and made once.)
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  countNoticeReceived,
  drainsInProgress,
  loadMetrics,
  setBuildInfo,
} from "../../src/observe/metrics.ts";

test("what is counted before the metrics load is there once they do", async () => {
  countNoticeReceived("spot-interruption", "imds");
  countNoticeReceived("spot-interruption", "imds");
  drainsInProgress.inc();
  setBuildInfo("1.2.3", "imds");
  const m = await loadMetrics();
  countNoticeReceived("spot-interruption", "imds");
  const notices = await m.noticesReceived.get();
  assert.deepEqual(
    notices.values.map((v) => [v.labels, v.value]),
    [[{ kind: "spot-interruption", source: "imds" }, 3]],
  );
  assert.equal((await m.drainsInProgress.get()).values[0]?.value, 1);
  assert.deepEqual((await m.buildInfo.get()).values[0]?.labels, { version: "1.2.3", mode: "imds" });
  assert.equal(await loadMetrics(), m, "loaded once");
});
