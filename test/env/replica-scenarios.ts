// The four several-replica scenarios, sized by the caller: the integration
// suite runs them small (test/integration/queue-replicas.test.ts), `npm run
// scenario:replicas` at full size. Each builds its own world, runs real nthd
// processes against it, stops them the way a cluster would, and returns
// what it counted from outside nthd plus one line of figures.
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationV1Api, CoreV1Api, V1MicroTime } from "@kubernetes/client-node";
import { eventually } from "../support/eventually.ts";
import { randomInstanceId } from "../support/ids.ts";
import { MERGE_PATCH } from "../support/merge-patch.ts";
import { createNode, ground, kubeConfig } from "./ground.ts";
import { lifecycleState } from "./moto/start.ts";
import {
  acceptedEvictions,
  answerCodes,
  countFigures,
  type Figures,
  figuresLine,
  lifecycleCalls,
  messagesLeft,
  nodeStates,
} from "./replica-counts.ts";
import { type Fleet, leaseOf, startFleet } from "./replica-fleet.ts";
import {
  buildWorld,
  liftBudgets,
  send,
  spotWarning,
  terminateAction,
  type World,
} from "./replica-world.ts";

export interface Outcome {
  readonly figures: Figures;
  readonly line: string;
  /** Scenario-specific measures (ms, s). */
  readonly extra: Record<string, number>;
}

const log = (m: string) => process.stderr.write(`[replicas] ${m}\n`);

/** Owner named by nthd's record on each node of the world (undefined: no record). */
/** The digest of a queue URL that names its replicas' group (the Lease label, the owner's prefix). */
export function queueGroup(queueUrl: string): string {
  return createHash("sha256").update(queueUrl).digest("hex").slice(0, 16);
}

/**
 * The Lease named as owner by nthd's record on each node of the world
 * (undefined: no record; "foreign:..." when the owner is not of the
 * world's queue, which no replica of it may ever write).
 */
export async function owners(world: World): Promise<Map<string, string | undefined>> {
  const nodes = await kubeConfig()
    .makeApiClient(CoreV1Api)
    .listNode({ labelSelector: `world=${world.name}` });
  const prefix = `${queueGroup(world.queueUrl)}/`;
  return new Map(
    nodes.items.map((n) => {
      const raw = n.metadata?.annotations?.["nthd/record"];
      if (raw === undefined) return [n.metadata?.name ?? "", undefined];
      const owner = (JSON.parse(raw) as { owner?: string }).owner ?? "";
      return [
        n.metadata?.name ?? "",
        owner.startsWith(prefix) ? owner.slice(prefix.length) : `foreign:${owner}`,
      ];
    }),
  );
}

/**
 * A node whose record says another queue's replica owns its drain, which
 * went away long ago: the world's replicas see it (their informer sees every
 * node) and must leave it alone.
 */
async function foreignRecord(world: World): Promise<{ untouched(): Promise<boolean> }> {
  const name = `${world.name}-foreign`;
  const owner = "0000000000000000/nthd-of-another-queue";
  const kc = kubeConfig();
  await createNode(
    { name, instanceId: randomInstanceId(), labels: { "world-foreign": world.name } },
    kc,
  );
  const now = new Date();
  const record = {
    v: 1,
    notices: [
      {
        id: "elsewhere_i-0000000000000000f",
        kind: "spot-interruption",
        action: "drain",
        instanceId: "i-0000000000000000f",
        source: "queue",
        receivedAt: now.toISOString(),
        detail: {},
      },
    ],
    action: "drain",
    at: now.toISOString(),
    deadline: new Date(now.getTime() + 3_600_000).toISOString(),
    cordoned: true,
    taints: [],
    lbExcluded: false,
    owner,
  };
  const core = kc.makeApiClient(CoreV1Api);
  await core.patchNode(
    {
      name,
      body: {
        metadata: {
          labels: { "nthd/state": "draining" },
          annotations: { "nthd/record": JSON.stringify(record) },
        },
        spec: { unschedulable: true },
      },
    },
    MERGE_PATCH,
  );
  return {
    async untouched() {
      const n = await core.readNode({ name });
      const raw = n.metadata?.annotations?.["nthd/record"] ?? "{}";
      await core.deleteNode({ name }).catch(() => undefined);
      return (JSON.parse(raw) as { owner?: string }).owner === owner;
    },
  };
}

async function leasesUp(world: World, replicas: readonly string[]): Promise<void> {
  const api = kubeConfig().makeApiClient(CoordinationV1Api);
  await eventually(
    `Leases of ${replicas.join(", ")}`,
    async () => {
      const list = await api.listNamespacedLease({ namespace: world.namespace });
      const names = new Set(list.items.map((l) => l.metadata?.name));
      return replicas.every((r) => names.has(leaseOf(r))) ? true : undefined;
    },
    60_000,
  );
}

/** A replica Lease of the world's queue last renewed an hour ago. */
async function staleLease(world: World, replica: string): Promise<{ exists(): Promise<boolean> }> {
  const api = kubeConfig().makeApiClient(CoordinationV1Api);
  const name = leaseOf(replica);
  const hourAgo = new Date(Date.now() - 3_600_000);
  await api.createNamespacedLease({
    namespace: world.namespace,
    body: {
      metadata: {
        name,
        labels: { "nthd/replica-of": queueGroup(world.queueUrl) },
      },
      spec: {
        holderIdentity: `${name}_dead`,
        leaseDurationSeconds: 15,
        acquireTime: new V1MicroTime(hourAgo.getTime()),
        renewTime: new V1MicroTime(hourAgo.getTime()),
      },
    },
  });
  return {
    exists: () =>
      api.readNamespacedLease({ name, namespace: world.namespace }).then(
        () => true,
        () => false,
      ),
  };
}

async function allRecorded(world: World, timeoutMs = 120_000): Promise<void> {
  await eventually(
    "every node recorded",
    async () => {
      const o = await owners(world);
      return [...o.values()].every((v) => v !== undefined) ? true : undefined;
    },
    timeoutMs,
  );
}

async function settled(
  world: World,
  actionInstances: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const ids = new Set(actionInstances);
  let last = "";
  await eventually(
    "every node drained, every lifecycle action completed, queue and dead-letter queue empty",
    async () => {
      const states = await nodeStates(world);
      const notDrained = [...states]
        .filter(([, s]) => s !== "drained")
        .map(([n, s]) => `${n}:${s}`);
      const { actions } = await lifecycleState(ground().motoUrl);
      const pending = actions.filter((a) => ids.has(a.InstanceId) && a.State !== "Completed");
      const queue = await messagesLeft(world, world.queueUrl);
      const dlq = await messagesLeft(world, world.dlqUrl);
      last = `not drained [${notDrained.join(" ")}], actions pending ${pending.length}, queue ${queue}, dlq ${dlq}`;
      return notDrained.length === 0 && pending.length === 0 && queue === 0 && dlq === 0
        ? true
        : undefined;
    },
    timeoutMs,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last seen: ${last}`);
  });
}

/**
 * Stops replica `gone` and waits until `heir` owns every node's work;
 * resolves with the milliseconds from the stop to the last node adopted.
 */
async function stopAndAdopt(
  world: World,
  fleet: Fleet,
  gone: string,
  heir: string,
): Promise<number> {
  const stoppedAt = Date.now();
  await fleet.stop(gone);
  await eventually(
    `replica ${heir} owns every node's work`,
    async () => {
      const o = await owners(world);
      return [...o.values()].every((v) => v === leaseOf(heir)) ? true : undefined;
    },
    60_000,
  );
  return Date.now() - stoppedAt;
}

/** Runs `body` with a world and a fleet, always cleaning up; keeps the logs on failure. */
async function withWorld<T>(
  spec: Parameters<typeof buildWorld>[0],
  fleetOf: (w: World) => Fleet,
  body: (world: World, fleet: Fleet) => Promise<T>,
): Promise<T> {
  const world = await buildWorld(spec);
  const fleet = fleetOf(world);
  try {
    return await body(world, fleet);
  } catch (err) {
    process.stderr.write(fleet.output().slice(-200_000));
    throw err;
  } finally {
    await fleet.stopAll();
    await world.cleanup();
  }
}

export interface MassSpec {
  readonly name: string;
  readonly nodes: number;
  readonly podsPerNode: number;
  /** Nodes whose instance also gets a terminate lifecycle action. */
  readonly actions: number;
  readonly leaseSeconds: number;
  readonly graceSeconds: number;
  readonly timeoutMs: number;
}

/**
 * 1. A mass interruption on three replicas: a Spot warning per node plus
 * terminate lifecycle actions for some, all at once. Midway (cordoned,
 * evictions under way) one replica is stopped with SIGTERM and another
 * killed with SIGKILL; both come back as new pods.
 */
export async function massInterruption(spec: MassSpec): Promise<Outcome> {
  const world = { name: spec.name, nodes: spec.nodes, podsPerNode: spec.podsPerNode };
  return withWorld(
    { ...world, graceSeconds: spec.graceSeconds, blockEvictions: false, hookTimeoutSeconds: 300 },
    (w) => startFleet(w, { leaseSeconds: spec.leaseSeconds, nodeGraceSeconds: 300 }),
    async (w, fleet) => {
      for (const r of ["a", "b", "c"]) fleet.start(r);
      await leasesUp(w, ["a", "b", "c"]);
      const actionInstances = w.nodes.slice(0, spec.actions).map((n) => n.instanceId);
      const bodies = w.nodes.map((n) => spotWarning(n.instanceId));
      for (const id of actionInstances) bodies.push(await terminateAction(w, id));
      bodies.sort(() => Math.random() - 0.5);
      const started = Date.now();
      await send(w, bodies);
      await allRecorded(w);
      // Midway: evictions accepted, pods still terminating (their grace period).
      await eventually("evictions under way", async () =>
        acceptedEvictions(w.namespace).size > 0 ? true : undefined,
      );
      log(`${spec.name}: midway after ${Date.now() - started} ms; SIGTERM a, SIGKILL b`);
      await fleet.stop("a");
      await fleet.kill("b");
      fleet.start("a2");
      fleet.start("b2");
      await settled(w, actionInstances, spec.timeoutMs);
      const allDoneMs = Date.now() - started;
      await fleet.stopAll();
      const figures = await countFigures(w, actionInstances);
      const extra = { allDoneMs };
      const answers = { evictionAnswers: answerCodes(w.namespace) };
      return {
        figures,
        extra,
        line: figuresLine("1 mass interruption, SIGTERM + SIGKILL", figures, {
          ...extra,
          ...answers,
        }),
      };
    },
  );
}

export interface HeldSpec {
  readonly name: string;
  readonly nodes: number;
  readonly leaseSeconds: number;
  readonly timeoutMs: number;
}

/**
 * 2. A rolling update while every drain is held by a PodDisruptionBudget:
 * the new replica starts (and must leave the old one's work alone), then
 * the old one stops; the drains finish once the budgets are lifted.
 */
export async function rollingUpdate(spec: HeldSpec): Promise<Outcome> {
  return withWorld(
    {
      name: spec.name,
      nodes: spec.nodes,
      podsPerNode: 1,
      graceSeconds: 2,
      blockEvictions: true,
      hookTimeoutSeconds: 300,
    },
    (w) => startFleet(w, { leaseSeconds: spec.leaseSeconds, nodeGraceSeconds: 300 }),
    async (w, fleet) => {
      fleet.start("old");
      await leasesUp(w, ["old"]);
      await send(
        w,
        w.nodes.map((n) => spotWarning(n.instanceId)),
      );
      await allRecorded(w);
      fleet.start("new");
      await leasesUp(w, ["old", "new"]);
      // Two Lease periods side by side: the new replica must not resume the old one's work.
      await sleep(2 * spec.leaseSeconds * 1000);
      const before = await owners(w);
      const takenEarly = [...before.values()].filter((o) => o !== leaseOf("old")).length;
      const adoptMs = await stopAndAdopt(w, fleet, "old", "new");
      await liftBudgets(w);
      await settled(w, [], spec.timeoutMs);
      await fleet.stopAll();
      const figures = await countFigures(w, []);
      const extra = { takenEarly, adoptMs };
      return {
        figures,
        extra,
        line: figuresLine("2 rolling update, drains held by PDBs", figures, extra),
      };
    },
  );
}

export interface HeartbeatSpec {
  readonly name: string;
  readonly hookTimeoutSeconds: number;
  /** How long a PodDisruptionBudget holds the drain. */
  readonly blockSeconds: number;
  /** The owner is killed this long after one of its heartbeats. */
  readonly killAfterHeartbeatSeconds: number;
  readonly leaseSeconds: number;
  readonly timeoutMs: number;
}

/**
 * 3. Heartbeat continuity: a terminate lifecycle action whose drain a
 * PodDisruptionBudget holds for longer than the hook's timeout; its owner is
 * SIGKILLed some seconds after a heartbeat. The action must never go a whole
 * timeout without a heartbeat, and be completed once, with CONTINUE, after
 * the drain.
 */
export async function heartbeatContinuity(spec: HeartbeatSpec): Promise<Outcome> {
  return withWorld(
    {
      name: spec.name,
      nodes: 1,
      podsPerNode: 1,
      graceSeconds: 2,
      blockEvictions: true,
      hookTimeoutSeconds: spec.hookTimeoutSeconds,
    },
    (w) => startFleet(w, { leaseSeconds: spec.leaseSeconds, nodeGraceSeconds: 3600 }),
    async (w, fleet) => {
      fleet.start("a");
      fleet.start("b");
      await leasesUp(w, ["a", "b"]);
      const node = w.nodes[0] as World["nodes"][number];
      const openedAt = Date.now();
      await send(w, [await terminateAction(w, node.instanceId)]);
      const owner = await eventually(
        "the action's owner",
        async () => (await owners(w)).get(node.name) || undefined,
      );
      // Kill the owner some seconds after its latest heartbeat.
      const lastBeat = await eventually("a heartbeat", async () => {
        const beats = (await lifecycleCalls([node.instanceId])).filter(
          (c) => c.Operation === "RecordLifecycleActionHeartbeat" && c.Outcome === "ok",
        );
        return beats.length > 0 ? Math.max(...beats.map((c) => Date.parse(c.Time))) : undefined;
      });
      await sleep(Math.max(0, lastBeat + spec.killAfterHeartbeatSeconds * 1000 - Date.now()));
      const victim = fleet.running().find((r) => leaseOf(r) === owner) ?? "";
      log(`${spec.name}: SIGKILL ${victim} ${spec.killAfterHeartbeatSeconds} s after a heartbeat`);
      await fleet.kill(victim);
      await sleep(Math.max(0, openedAt + spec.blockSeconds * 1000 - Date.now()));
      const liftedAt = Date.now();
      await liftBudgets(w);
      await settled(w, [node.instanceId], spec.timeoutMs);
      await fleet.stopAll();
      const calls = await lifecycleCalls([node.instanceId]);
      const times = [
        openedAt,
        ...calls.filter((c) => c.Outcome === "ok").map((c) => Date.parse(c.Time)),
      ].sort((x, y) => x - y);
      const maxGapSeconds =
        Math.max(...times.slice(1).map((t, i) => t - (times[i] as number))) / 1000;
      const complete = calls.find(
        (c) => c.Operation === "CompleteLifecycleAction" && c.Outcome === "ok",
      );
      const figures = await countFigures(w, [node.instanceId]);
      const extra = {
        heartbeats: calls.filter(
          (c) => c.Operation === "RecordLifecycleActionHeartbeat" && c.Outcome === "ok",
        ).length,
        maxGapSeconds: Math.round(maxGapSeconds * 10) / 10,
        hookTimeoutSeconds: spec.hookTimeoutSeconds,
        completedAfterLiftMs: complete ? Date.parse(complete.Time) - liftedAt : -1,
        continue: complete?.LifecycleActionResult === "CONTINUE" ? 1 : 0,
      };
      return {
        figures,
        extra,
        line: figuresLine("3 heartbeat continuity, owner SIGKILLed", figures, extra),
      };
    },
  );
}

/**
 * 4. Scale from two replicas to one while drains are held: the removed
 * replica's work is adopted by the other within the Lease's duration.
 */
export async function scaleDown(spec: HeldSpec): Promise<Outcome> {
  return withWorld(
    {
      name: spec.name,
      nodes: spec.nodes,
      podsPerNode: 1,
      graceSeconds: 2,
      blockEvictions: true,
      hookTimeoutSeconds: 300,
    },
    (w) => startFleet(w, { leaseSeconds: spec.leaseSeconds, nodeGraceSeconds: 300 }),
    async (w, fleet) => {
      // A replica killed long ago left its Lease behind: the next one to start deletes it.
      const stale = await staleLease(w, "killed-an-hour-ago");
      const foreign = await foreignRecord(w);
      // The replica that goes takes the first half alone, so it surely owns work.
      const half = Math.ceil(w.nodes.length / 2);
      fleet.start("gone");
      await leasesUp(w, ["gone"]);
      const staleSwept = await eventually("the stale Lease deleted", async () =>
        (await stale.exists()) ? undefined : 1,
      ).catch(() => 0);
      await send(
        w,
        w.nodes.slice(0, half).map((n) => spotWarning(n.instanceId)),
      );
      await eventually(
        "the first half recorded",
        async () => {
          const o = await owners(w);
          return w.nodes.slice(0, half).every((n) => o.get(n.name)) ? true : undefined;
        },
        120_000,
      );
      fleet.start("stays");
      await leasesUp(w, ["gone", "stays"]);
      await send(
        w,
        w.nodes.slice(half).map((n) => spotWarning(n.instanceId)),
      );
      await allRecorded(w);
      const owned = [...(await owners(w)).values()].filter((o) => o === leaseOf("gone")).length;
      const adoptMs = await stopAndAdopt(w, fleet, "gone", "stays");
      await liftBudgets(w);
      await settled(w, [], spec.timeoutMs);
      await fleet.stopAll();
      const figures = await countFigures(w, []);
      const extra = {
        ownedByRemoved: owned,
        adoptMs,
        leaseMs: spec.leaseSeconds * 1000,
        staleSwept,
        foreignLeftAlone: (await foreign.untouched()) ? 1 : 0,
      };
      return { figures, extra, line: figuresLine("4 scale 2 -> 1", figures, extra) };
    },
  );
}
