import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { heartbeatPlan } from "../../src/sources/queue/lifecycle-actions.ts";
import { isDue, visibilityPolicy } from "../../src/sources/queue/visibility.ts";

describe("visibility schedule", () => {
  test("receive with the configured timeout; extend by at least 30 s", () => {
    assert.deepEqual(visibilityPolicy({ sqsMsgVisibilityTimeoutSeconds: 20 }), {
      initialSeconds: 20,
      extendSeconds: 30,
    });
    assert.deepEqual(visibilityPolicy({ sqsMsgVisibilityTimeoutSeconds: 90 }), {
      initialSeconds: 90,
      extendSeconds: 90,
    });
    assert.equal(visibilityPolicy({ sqsMsgVisibilityTimeoutSeconds: 43200 }).extendSeconds, 43200);
  });

  test("an extension is due once half an extension (or less) is left", () => {
    const policy = { initialSeconds: 20, extendSeconds: 30 };
    const received = 1_000_000;
    const visibleUntil = received + 20_000;
    assert.equal(isDue(visibleUntil, received, policy), false, "20 s left");
    assert.equal(isDue(visibleUntil, received + 4_999, policy), false, "just over 15 s left");
    assert.equal(isDue(visibleUntil, received + 5_000, policy), true, "15 s left");
    assert.equal(isDue(visibleUntil, received + 25_000, policy), true, "already expired");
  });

  test("following the schedule, the message never becomes visible between ticks of 1 s", () => {
    const policy = visibilityPolicy({ sqsMsgVisibilityTimeoutSeconds: 20 });
    let visibleUntil = policy.initialSeconds * 1000;
    let extensions = 0;
    for (let now = 0; now <= 600_000; now += 1000) {
      assert.ok(visibleUntil > now, `visible again at ${now} ms`);
      if (isDue(visibleUntil, now, policy)) {
        visibleUntil = now + policy.extendSeconds * 1000;
        extensions++;
      }
    }
    assert.ok(extensions >= 600 / 30 && extensions <= 600 / 15 + 1, `${extensions} extensions`);
  });
});

describe("heartbeatPlan", () => {
  const unset = { heartbeatIntervalSeconds: "auto" as const, heartbeatUntilSeconds: 172_800 };

  test("from the hook's timeout: every half timeout, until AWS's global timeout", () => {
    assert.deepEqual(heartbeatPlan(unset, 300), { intervalSeconds: 150, untilSeconds: 30_000 });
    assert.deepEqual(heartbeatPlan(unset, 7200), { intervalSeconds: 3600, untilSeconds: 172_800 });
  });
  test("no timeout known and none configured: no heartbeats", () => {
    assert.equal(heartbeatPlan(unset, undefined), undefined);
  });
  test("-1: no heartbeats, whatever the hook says (NTH's meaning)", () => {
    assert.equal(heartbeatPlan({ ...unset, heartbeatIntervalSeconds: -1 }, 300), undefined);
  });
  test("configured interval wins, until as configured (its 48 h default is the table's)", () => {
    assert.deepEqual(
      heartbeatPlan({ heartbeatIntervalSeconds: 60, heartbeatUntilSeconds: 172_800 }, 300),
      {
        intervalSeconds: 60,
        untilSeconds: 172_800,
      },
    );
    assert.deepEqual(
      heartbeatPlan({ heartbeatIntervalSeconds: 30, heartbeatUntilSeconds: 600 }, undefined),
      { intervalSeconds: 30, untilSeconds: 600 },
    );
  });
});
