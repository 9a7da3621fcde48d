// IMDS mode's monitors polling the real amazon-ec2-metadata-mock, one mock
// process per scenario. Waits are bounded by poll counts, never by timing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Notice } from "../../src/notice.ts";
import { loadMetrics } from "../../src/observe/metrics.ts";
import { type ImdsAnswer, ImdsClient, type MetadataReader } from "../../src/sources/imds/client.ts";
import type { ImdsMonitorName } from "../../src/sources/imds/monitors.ts";
import { type ImdsSourceOptions, startImdsSource } from "../../src/sources/imds/poller.ts";
import { freePort, type MetadataMock, startMetadataMock } from "../env/ground.ts";
import { until } from "../support/eventually.ts";
import { recordingHandler } from "../support/notices.ts";

const { imdsRequestErrors } = await loadMetrics();

const INSTANCE = "i-1234567890abcdef0";
const NONE = {
  enableSpotInterruptionDraining: false,
  enableScheduledEventDraining: false,
  enableAsgLifecycleDraining: false,
  enableRebalanceMonitoring: false,
  enableRebalanceDraining: false,
};
type Monitors = Partial<typeof NONE>;

/**
 * Real client to the mock, counting polls per path so a test can wait for
 * "N more polls happened" instead of sleeping. `use` swaps the mock behind
 * it, which is how a scheduled event changes state mid-run.
 */
class CountingReader implements MetadataReader {
  readonly polls = new Map<string, number>();
  #client: ImdsClient;
  constructor(url: string) {
    this.#client = newClient(url);
  }
  async use(url: string): Promise<void> {
    const old = this.#client;
    this.#client = newClient(url);
    await old.close();
  }
  async get(path: string, signal?: AbortSignal): Promise<ImdsAnswer> {
    try {
      return await this.#client.get(path, signal);
    } finally {
      this.polls.set(path, (this.polls.get(path) ?? 0) + 1);
    }
  }
  total(): number {
    return [...this.polls.values()].reduce((a, b) => a + b, 0);
  }
  close(): Promise<void> {
    return this.#client.close();
  }
}

function newClient(url: string): ImdsClient {
  return new ImdsClient({
    baseUrl: url,
    tries: 2,
    tokenTtlSeconds: 21600,
    allowV1Fallback: false,
    backoffBaseMs: 20,
    requestTimeoutMs: 500,
  });
}

interface Run {
  readonly notices: Notice[];
  errors: [ImdsMonitorName, unknown][];
  reader: CountingReader;
  /** Waits until every enabled monitor has polled `n` more times. */
  morePolls(n: number): Promise<void>;
  stop(): Promise<void>;
}

function run(
  mock: MetadataMock,
  monitors: Monitors,
  /** Whether the handler records the notice or fails to (the source must hand it over again). */
  answer: (n: Notice) => "recorded" | "record-failed" = () => "recorded",
  extra: Partial<ImdsSourceOptions> = {},
): Run {
  const reader = new CountingReader(mock.url);
  const engine = recordingHandler({ records: (n) => answer(n) === "recorded" });
  const errors: [ImdsMonitorName, unknown][] = [];
  const ac = new AbortController();
  const enabled = Object.values(monitors).filter(Boolean).length;
  const done = startImdsSource({
    client: reader,
    config: { ...NONE, ...monitors, imdsPollIntervalMs: 100 },
    instanceId: INSTANCE,
    facts: { instanceType: "m4.xlarge", availabilityZone: "us-east-1a", region: "us-east-1" },
    nodeName: "node-under-test",
    handle: (n, nodeName) => {
      assert.equal(nodeName, "node-under-test");
      return engine.handle(n, nodeName);
    },
    onError: (m, err) => errors.push([m, err]),
    signal: ac.signal,
    ...extra,
  });
  return {
    get notices() {
      return engine.notices;
    },
    errors,
    reader,
    morePolls: async (n) => {
      const target = reader.total() + n * enabled;
      await until(`${n} more polls`, () => reader.total() >= target);
    },
    stop: async () => {
      ac.abort();
      await done;
      await reader.close();
    },
  };
}

async function scenario(
  args: string[],
  body: (mock: MetadataMock) => Promise<void>,
): Promise<void> {
  const mock = await startMetadataMock(args);
  try {
    await body(mock);
  } finally {
    await mock.stop();
  }
}

describe("IMDS monitors against the metadata mock", () => {
  for (const args of [
    ["spot", "-a", "terminate"],
    ["-I", "spot", "-a", "terminate"],
  ]) {
    it(`spot interruption is handed over once (${args.join(" ")})`, () =>
      scenario(args, async (mock) => {
        const r = run(mock, { enableSpotInterruptionDraining: true });
        try {
          await until("a spot notice", () => r.notices.length > 0);
          // The mock restates `time` on every request (whole seconds): poll
          // across more than a second of such restatements; still one notice.
          await r.morePolls(12);
          assert.equal(r.notices.length, 1);
          const n = r.notices[0] as Notice;
          assert.equal(n.kind, "spot-interruption");
          assert.equal(n.action, "drain");
          assert.equal(n.instanceId, INSTANCE);
          assert.equal(n.source, "imds");
          assert.equal(n.detail.instanceAction, "terminate");
          assert.equal(n.detail.instanceType, "m4.xlarge");
          assert.equal(n.detail.availabilityZone, "us-east-1a");
          assert.ok(n.deadline instanceof Date && n.deadline > n.receivedAt);
          assert.deepEqual(r.errors, []);
        } finally {
          await r.stop();
        }
      }));
  }

  it("rebalance recommendation cordons once", () =>
    scenario(["spot", "-a", "terminate"], async (mock) => {
      const r = run(mock, { enableRebalanceMonitoring: true });
      try {
        await until("a rebalance notice", () => r.notices.length > 0);
        // In spot mode the mock restates noticeTime each request: poll past a second.
        await r.morePolls(12);
        assert.deepEqual(
          r.notices.map((n) => [n.kind, n.action]),
          [["rebalance-recommendation", "cordon"]],
        );
        assert.ok(r.notices[0]?.eventTime instanceof Date);
      } finally {
        await r.stop();
      }
    }));

  it("active scheduled event drains before NotBefore; its cancellation uncordons once", async () => {
    const active = await startMetadataMock(["events", "-o", "system-reboot", "-t", "active"]);
    const canceled = await startMetadataMock(["events", "-o", "system-reboot", "-t", "canceled"]);
    const r = run(active, { enableScheduledEventDraining: true });
    try {
      await until("a drain notice", () => r.notices.length > 0);
      await r.morePolls(3);
      await r.reader.use(canceled.url);
      await until("an uncordon notice", () => r.notices.length > 1);
      await r.morePolls(5);
      assert.deepEqual(
        r.notices.map((n) => [n.kind, n.action, n.id]),
        [
          ["scheduled-maintenance", "drain", "instance-event-1234567890abcdef0"],
          ["scheduled-maintenance", "uncordon", "instance-event-1234567890abcdef0-canceled"],
        ],
      );
      const drain = r.notices[0] as Notice;
      assert.equal(drain.detail.code, "system-reboot");
      assert.ok(drain.deadline instanceof Date);
      assert.equal(r.notices[1]?.detail.cancels, drain.id);
      assert.deepEqual(r.errors, []);
    } finally {
      await r.stop();
      await active.stop();
      await canceled.stop();
    }
  });

  it("ASG target lifecycle state Terminated drains", () =>
    scenario(["asglifecycle"], async (mock) => {
      const r = run(mock, { enableAsgLifecycleDraining: true });
      try {
        await until("an asg notice", () => r.notices.length > 0);
        await r.morePolls(3);
        assert.deepEqual(
          r.notices.map((n) => [n.kind, n.action, n.detail.targetLifecycleState]),
          [["asg-terminate", "drain", "Terminated"]],
        );
      } finally {
        await r.stop();
      }
    }));

  it("404 on every item is the quiet steady state: no notice, no error", () =>
    scenario(["events", "-o", "system-reboot"], async (mock) => {
      const r = run(mock, {
        enableSpotInterruptionDraining: true,
        enableRebalanceMonitoring: true,
        enableAsgLifecycleDraining: true,
      });
      try {
        await r.morePolls(5);
        assert.deepEqual(r.notices, []);
        assert.deepEqual(r.errors, []);
      } finally {
        await r.stop();
      }
    }));

  it("hands a notice over again when recording it on the node failed", () =>
    scenario(["asglifecycle"], async (mock) => {
      let calls = 0;
      const r = run(mock, { enableAsgLifecycleDraining: true }, () =>
        ++calls < 3 ? "record-failed" : "recorded",
      );
      try {
        await until("three hand-overs", () => r.notices.length >= 3);
        await r.morePolls(5);
        assert.equal(r.notices.length, 3);
        assert.equal(new Set(r.notices.map((n) => n.id)).size, 1);
      } finally {
        await r.stop();
      }
    }));

  it("keeps polling and counts errors when IMDS goes away, and stops on abort", async () => {
    const port = await freePort();
    const gone = { url: `http://127.0.0.1:${port}`, stop: async () => {} };
    const r = run(gone, {
      enableSpotInterruptionDraining: true,
      enableScheduledEventDraining: true,
    });
    try {
      await until("errors from both monitors", () => {
        const names = new Set(r.errors.map(([m]) => m));
        return names.has("spot-itn") && names.has("scheduled-events") && r.errors.length >= 4;
      });
      assert.deepEqual(r.notices, []);
      const [, err] = r.errors[0] as [ImdsMonitorName, unknown];
      assert.match(String(err), /hop limit/);
      // Counted: nothing listens, so the token request fails to connect.
      const counted = (await imdsRequestErrors.get()).values.find(
        (v) => v.labels.monitor === "token" && v.labels.reason === "connection",
      );
      assert.ok(counted && counted.value >= 4, JSON.stringify(counted));
    } finally {
      await r.stop(); // resolves: the source ends when its signal aborts
    }
  });
});
