// The real nthd under exactly the identity the Helm chart gives it: the
// chart's ServiceAccount, ClusterRole and ClusterRoleBinding are created in the
// test ground, a token for that ServiceAccount is minted with the TokenRequest
// API and nthd runs with a kubeconfig holding only that token. Every call nthd
// makes on a Spot interruption (IMDS and queue mode) is then answered by RBAC
// from the chart's rules, so a permission the chart lacks shows up as a failed
// drain or a "forbidden" in the logs. In queue mode that includes the
// replica's Lease, which the chart grants in the release namespace only. A
// control run with pods/eviction taken out of the role proves the test notices.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationV1Api, CoreV1Api, type V1Node } from "@kubernetes/client-node";
import { type ChartIdentity, chartIdentity, refusedCalls, whoAmI } from "../env/chart.ts";
import {
  createNode,
  createPdb,
  deployPinned,
  ground,
  kubeConfig,
  type MetadataMock,
  podsOnNode,
  randomInstanceId,
  startMetadataMock,
  waitNodeReady,
} from "../env/ground.ts";
import {
  createQueue,
  MANAGED_TAG,
  motoClients,
  motoEnv,
  queueDepth,
  REGION,
  runInstance,
  sendMessage,
} from "../env/moto/aws.ts";
import { eventually, type NthdProcess, startNthd } from "../env/nthd-process.ts";
import { awsEventPath } from "../support/fixtures.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const SPOT_TAINT = "aws-node-termination-handler/spot-itn";
const SPOT_FIXTURE = awsEventPath("sqs/eventbridge/spot-interruption-warning.doc.json");
const REPLICAS = 2;

const admin = kubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const coordination = admin.makeApiClient(CoordinationV1Api);

interface Scene {
  readonly namespace: string;
  readonly node: string;
  readonly spare: string;
  readonly instanceId: string;
  cleanup(): Promise<void>;
}

/**
 * A namespace, a kwok node with a Deployment of REPLICAS pods and a PDB
 * (minAvailable 1) on it, then a spare node with the same test label where the
 * replacements can go: the drain has to wait out one PodDisruptionBudget refusal.
 */
async function scene(name: string, instanceId: string): Promise<Scene> {
  const namespace = `rbac-${name}-${suffix}`;
  const node = `rbac-${name}-${suffix}`;
  const spare = `rbac-${name}-spare-${suffix}`;
  const pin = { "nthd-rbac-test": namespace };
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await createNode({ name: node, instanceId, labels: pin }, admin);
  await waitNodeReady(node, admin);
  await deployPinned(namespace, "web", { replicas: REPLICAS, nodeSelector: pin }, admin);
  await createPdb(namespace, "web", 1, {}, admin);
  await eventually(`${REPLICAS} running pods on ${node}`, async () =>
    (await runningOn(namespace, node)) === REPLICAS ? true : undefined,
  );
  // Only now, so the first pods all land on the node under test.
  await createNode({ name: spare, instanceId: randomInstanceId(), labels: pin }, admin);
  await waitNodeReady(spare, admin);
  return {
    namespace,
    node,
    spare,
    instanceId,
    async cleanup() {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await core.deleteNode({ name: node }).catch(() => undefined);
      await core.deleteNode({ name: spare }).catch(() => undefined);
    },
  };
}

/** Pods of the namespace on the node that are running and not being deleted. */
async function runningOn(namespace: string, node: string): Promise<number> {
  return (await podsOnNode(namespace, node, {}, admin)).length;
}

async function podsOn(namespace: string, node: string): Promise<number> {
  return (await podsOnNode(namespace, node, { all: true }, admin)).length;
}

/**
 * Waits for nthd's outcome label on the node (nthd/state: drained or
 * incomplete). Fails at once when nthd exits, or, unless refusals are
 * expected, as soon as a call is refused, naming it.
 */
async function outcome(node: string, nthd: NthdProcess, refusalsExpected = false): Promise<V1Node> {
  const until = Date.now() + 90_000;
  for (;;) {
    const output = nthd.output();
    if (nthd.child.exitCode !== null) assert.fail(`nthd exited ${nthd.child.exitCode}:\n${output}`);
    if (!refusalsExpected) assert.deepEqual(refusedCalls(output), [], output);
    const n = await core.readNode({ name: node });
    const state = n.metadata?.labels?.["nthd/state"];
    if (state === "drained" || state === "incomplete") return n;
    if (Date.now() > until) assert.fail(`no outcome on ${node} after 90 s:\n${output}`);
    await sleep(200);
  }
}

/** The drain as a cluster operator sees it, plus the Events nthd wrote. */
async function assertDrained(s: Scene, nthd: NthdProcess): Promise<void> {
  const node = await outcome(s.node, nthd);
  assert.equal(node.metadata?.labels?.["nthd/state"], "drained", nthd.output());
  assert.equal(node.spec?.unschedulable, true, "cordoned");
  assert.equal(node.spec?.taints?.find((t) => t.key === SPOT_TAINT)?.effect, "NoSchedule");
  await eventually("no pods left on the node", async () =>
    (await podsOn(s.namespace, s.node)) === 0 ? true : undefined,
  );
  await eventually(`${REPLICAS} replacements running on the spare node`, async () =>
    (await runningOn(s.namespace, s.spare)) === REPLICAS ? true : undefined,
  );
  // Events are written in the background: wait for them rather than read once.
  const nodeReasons = await eventually("Events on the node", async () => {
    const events = await core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${s.node}`,
    });
    const reasons = events.items.filter((e) => e.source?.component === "nthd").map((e) => e.reason);
    return reasons.includes("SpotInterruption") && reasons.includes("CordonAndDrain")
      ? reasons
      : undefined;
  });
  assert.ok(nodeReasons.length >= 2);
  await eventually("PodEviction Events in the workload's namespace", async () => {
    const events = await core.listNamespacedEvent({ namespace: s.namespace });
    const evicted = events.items.filter(
      (e) => e.reason === "PodEviction" && e.involvedObject.kind === "Pod",
    );
    return evicted.length >= REPLICAS ? true : undefined;
  });
  assert.deepEqual(refusedCalls(nthd.output()), [], "calls refused by RBAC");
  assert.doesNotMatch(nthd.output(), /forbidden/i, "a call nthd made was refused by RBAC");
}

async function stopped(nthd: NthdProcess): Promise<void> {
  const code = await nthd.stop();
  assert.equal(code, 0, `nthd exited with ${code}:\n${nthd.output()}`);
}

function imdsEnv(s: Scene, id: ChartIdentity, mock: MetadataMock): Record<string, string> {
  return {
    NODE_NAME: s.node,
    KUBECONFIG: id.kubeconfig,
    INSTANCE_METADATA_URL: mock.url,
    TAINT_NODE: "true",
    EMIT_KUBERNETES_EVENTS: "true",
    POD_TERMINATION_GRACE_PERIOD: "2",
    LOG_LEVEL: "debug",
  };
}

describe("nthd under the chart's ServiceAccount", () => {
  let mock: MetadataMock;
  before(async () => {
    mock = await startMetadataMock(["spot", "-a", "terminate"]);
  });
  after(async () => {
    await mock?.stop();
  });

  test("IMDS mode: a Spot interruption cordons, taints and drains the node; no call is refused", async () => {
    const s = await scene("imds", randomInstanceId());
    const id = await chartIdentity(`rbac-imds-${suffix}`, s.namespace, []);
    const nthd = startNthd(imdsEnv(s, id, mock));
    try {
      assert.equal(await whoAmI(id.kubeconfig), id.user);
      await assertDrained(s, nthd);
      await stopped(nthd);
    } finally {
      await nthd.stop();
      await id.cleanup();
      await s.cleanup();
    }
  });

  test("queue mode: a Spot warning from SQS drains the node and the message is deleted; no call is refused", async () => {
    const aws = motoClients(ground().motoUrl);
    const queueUrl = (await createQueue(aws.sqs, `nthd-rbac-${suffix}`)).url;
    // CHECK_TAG_BEFORE_DRAINING is on by default: the instance carries the managed tag.
    const instanceId = (await runInstance(aws.ec2, { [MANAGED_TAG]: "" })).id;
    assert.ok(instanceId);
    const s = await scene("queue", instanceId);
    const helmArgs = ["--set", "mode=queue", "--set", `queueURL=${queueUrl}`];
    const id = await chartIdentity(`rbac-queue-${suffix}`, s.namespace, helmArgs);
    const nthd = startNthd({
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      QUEUE_URL: queueUrl,
      ...motoEnv(ground().motoUrl),
      KUBECONFIG: id.kubeconfig,
      // As the chart's downward API sets them: the replica's Lease lives in the release namespace.
      NAMESPACE: s.namespace,
      POD_NAME: `nthd-rbac-${suffix}`,
      CHECK_TAG_BEFORE_DRAINING: "true",
      TAINT_NODE: "true",
      EMIT_KUBERNETES_EVENTS: "true",
      POD_TERMINATION_GRACE_PERIOD: "2",
      SQS_MSG_VISIBILITY_TIMEOUT_SEC: "5",
      LOG_LEVEL: "debug",
    });
    try {
      assert.equal(await whoAmI(id.kubeconfig), id.user);
      const event = JSON.parse(readFileSync(SPOT_FIXTURE, "utf8")) as {
        time: string;
        region: string;
        resources: string[];
        detail: Record<string, string>;
      };
      event.time = new Date().toISOString();
      event.region = REGION;
      event.resources = [`arn:aws:ec2:${REGION}:123456789012:instance/${instanceId}`];
      event.detail = { "instance-id": instanceId, "instance-action": "terminate" };
      await sendMessage(aws.sqs, queueUrl, JSON.stringify(event));
      const leaseName = `nthd-nthd-rbac-${suffix}`;
      const lease = await eventually("the replica's Lease in the release namespace", () =>
        coordination
          .readNamespacedLease({ name: leaseName, namespace: s.namespace })
          .catch(() => undefined),
      );
      assert.equal(lease.spec?.leaseDurationSeconds, 15);
      await assertDrained(s, nthd);
      const record = (await core.readNode({ name: s.node })).metadata?.annotations?.["nthd/record"];
      // The owner: this queue's digest and the replica's Lease. A replica of
      // another queue (the several-replica test's, running beside) never
      // takes work owned by another queue's replica.
      const group = createHash("sha256").update(queueUrl).digest("hex").slice(0, 16);
      assert.equal(
        JSON.parse(record ?? "{}").owner,
        `${group}/${leaseName}`,
        "the record names its owner",
      );
      await eventually("the message deleted", async () =>
        (await queueDepth(aws.sqs, queueUrl)) === 0 ? true : undefined,
      );
      await stopped(nthd);
      // SIGTERM hands the work back: the Lease is deleted, not left to expire.
      await assert.rejects(
        coordination.readNamespacedLease({ name: leaseName, namespace: s.namespace }),
        /404|not found/i,
      );
    } finally {
      await nthd.stop();
      await id.cleanup();
      await s.cleanup();
    }
  });

  test("control: without pods/eviction create the pods stay and nthd names the refused call", async () => {
    const s = await scene("noevict", randomInstanceId());
    let removed = 0;
    const id = await chartIdentity(`rbac-noevict-${suffix}`, s.namespace, [], (role) => ({
      ...role,
      rules: (role.rules ?? [])
        .map((rule) => {
          const resources = (rule.resources ?? []).filter((r) => r !== "pods/eviction");
          removed += (rule.resources?.length ?? 0) - resources.length;
          return { ...rule, resources };
        })
        .filter((rule) => rule.resources.length > 0),
    }));
    // The chart must have granted it, or this control would prove nothing.
    assert.equal(removed, 1, "the chart's ClusterRole has no pods/eviction rule to take out");
    const nthd = startNthd(imdsEnv(s, id, mock));
    try {
      assert.equal(await whoAmI(id.kubeconfig), id.user);
      const node = await outcome(s.node, nthd, true);
      assert.equal(node.metadata?.labels?.["nthd/state"], "incomplete", nthd.output());
      assert.equal(node.spec?.unschedulable, true, "the cordon is still allowed");
      assert.equal(await runningOn(s.namespace, s.node), REPLICAS, "no pod was evicted");
      assert.equal(await runningOn(s.namespace, s.spare), 0);
      // Exactly the call taken out of the role, refused for the chart's ServiceAccount.
      assert.deepEqual(refusedCalls(nthd.output()), ["create pods/eviction"], nthd.output());
      assert.match(nthd.output(), new RegExp(`User \\\\?"${id.user}\\\\?" cannot create`));
      assert.match(nthd.output(), /eviction failed/);
      await stopped(nthd);
    } finally {
      await nthd.stop();
      await id.cleanup();
      await s.cleanup();
    }
  });
});
