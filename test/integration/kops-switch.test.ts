/**
 * The switch from kOps' bundled handler to nthd, as docs/kops.md tells an operator to do it,
 * in both modes. The ground first gets what kOps' addon creates (test/fixtures/kops/, applied
 * the way kOps applies addons: server-side, field manager `kops`, forced) and nodes NTH was
 * working on; then the shell block of docs/kops.md runs as it is (kubectl and helm are the
 * ground's; `kops get cluster` is a stand-in printing the cluster spec). Afterwards: only
 * nthd's objects and pods are left, nothing of NTH's in them, and an nthd process configured
 * exactly as the new pods are, under their ServiceAccount, takes over NTH's nodes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  AppsV1Api,
  CoreV1Api,
  loadAllYaml,
  PatchStrategy,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1Container,
  type V1EnvVar,
  type V1Node,
} from "@kubernetes/client-node";
import { serviceAccountKubeconfig } from "../env/chart.ts";
import {
  createNode,
  deployPinned,
  ground,
  kubeConfig,
  peerBinary,
  startMetadataMock,
  waitNodeReady,
} from "../env/ground.ts";
import { type NthdProcess, startNthd } from "../env/nthd-process.ts";
import { eventually } from "../support/eventually.ts";

const REPO = join(new URL(".", import.meta.url).pathname, "..", "..");
const FIXTURES = join(REPO, "test", "fixtures", "kops");
const NS = "kube-system";
const NAME = "aws-node-termination-handler";
const ACCOUNT = "123456789012"; // moto's account
const REGION = "us-east-1";
const MANAGED_TAG = "aws-node-termination-handler/managed";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const suffix = Math.random().toString(36).slice(2, 7);
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const policy = kc.makeApiClient(PolicyV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

/** The shell block docs/kops.md marks as the tested switch-over. */
function documentedSwitch(): string {
  const doc = readFileSync(join(REPO, "docs", "kops.md"), "utf8");
  const at = doc.indexOf("<!-- switch-over:");
  assert.ok(at >= 0, "docs/kops.md has no switch-over block");
  const block = /```sh\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(block, "no sh block after the switch-over marker");
  return block[1] as string;
}

interface Workspace {
  readonly dir: string;
  readonly env: Record<string, string>;
}

/**
 * A directory to run the documented commands in, as an operator's clone would be: deploy/
 * of this repository, kubectl and helm on PATH, `kops get cluster` answering with `spec`.
 */
function workspace(cluster: string, workload: "deployment" | "daemonset"): Workspace {
  const dir = mkdtempSync(join(tmpdir(), "nthd-kops-switch-"));
  symlinkSync(join(REPO, "deploy"), join(dir, "deploy"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(peerBinary("kubectl"), join(bin, "kubectl"));
  symlinkSync(peerBinary("helm"), join(bin, "helm"));
  writeFileSync(join(dir, "kops-cluster-spec.yaml"), cluster);
  writeFileSync(
    join(bin, "kops"),
    `#!/bin/sh\n# Stands in for kops' state store: prints the cluster spec.\n[ "$1 $2" = "get cluster" ] || exit 2\ncat "${join(dir, "kops-cluster-spec.yaml")}"\n`,
  );
  chmodSync(join(bin, "kops"), 0o755);
  return {
    dir,
    env: {
      PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: process.env.HOME ?? "",
      KUBECONFIG: ground().kubeconfig,
      CLUSTER_NAME: clusterName(cluster),
      ACCOUNT_ID: ACCOUNT,
      NTHD_IMAGE: "registry.example.com/nthd",
      NTHD_TAG: "0.1.0",
      WORKLOAD: workload,
    },
  };
}

function clusterName(spec: string): string {
  return /^ {2}name: (\S+)$/m.exec(spec)?.[1] as string;
}

/** Runs docs/kops.md's block with bash -e: every step must succeed. */
function followDocs(ws: Workspace): string {
  const run = spawnSync(
    "bash",
    ["--norc", "--noprofile", "-euo", "pipefail", "-c", documentedSwitch()],
    {
      cwd: ws.dir,
      env: ws.env,
      encoding: "utf8",
      timeout: 360_000,
    },
  );
  const output = `${run.stdout}\n${run.stderr}`;
  process.stderr.write(`[kops-switch] docs/kops.md block output:\n${output}\n`);
  assert.equal(run.status, 0, `the documented switch failed:\n${output}`);
  return run.stdout;
}

/** kOps' addon objects, applied the way kOps' channels tool applies them. */
function applyAsKops(files: string[], queueUrl = ""): void {
  const text = files
    .map((f) => readFileSync(join(FIXTURES, f), "utf8"))
    .join("\n---\n")
    .replaceAll("QUEUE_URL_PLACEHOLDER", queueUrl);
  const run = spawnSync(
    peerBinary("kubectl"),
    ["apply", "--server-side", "--force-conflicts", "--field-manager=kops", "-f", "-"],
    { input: text, encoding: "utf8", env: { ...process.env, KUBECONFIG: ground().kubeconfig } },
  );
  assert.equal(run.status, 0, run.stderr);
}

async function handlerPods() {
  const pods = await core.listNamespacedPod({
    namespace: NS,
    labelSelector: `app.kubernetes.io/name=${NAME}`,
  });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Deletes every object kOps' addon or nthd's manifest created, and waits for the pods. */
async function removeHandler(): Promise<void> {
  const ignore = () => undefined;
  await apps.deleteNamespacedDeployment({ name: NAME, namespace: NS }).catch(ignore);
  await apps.deleteNamespacedDaemonSet({ name: NAME, namespace: NS }).catch(ignore);
  await policy.deleteNamespacedPodDisruptionBudget({ name: NAME, namespace: NS }).catch(ignore);
  await core.deleteNamespacedServiceAccount({ name: NAME, namespace: NS }).catch(ignore);
  await core.deleteNamespacedService({ name: NAME, namespace: NS }).catch(ignore);
  // nthd's queue mode adds a Role and RoleBinding for its Leases.
  await rbac.deleteNamespacedRoleBinding({ name: NAME, namespace: NS }).catch(ignore);
  await rbac.deleteNamespacedRole({ name: NAME, namespace: NS }).catch(ignore);
  await rbac.deleteClusterRoleBinding({ name: NAME }).catch(ignore);
  await rbac.deleteClusterRole({ name: NAME }).catch(ignore);
  await eventually("kOps' and nthd's handler pods gone", async () =>
    (await handlerPods()).length === 0 ? true : undefined,
  );
}

/** The nthd container's environment as the kubelet would give it to the pod on `nodeName`. */
function podEnvironment(container: V1Container, nodeName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? ([] as V1EnvVar[])) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (field === "spec.nodeName") env[e.name] = nodeName;
    else if (field === "metadata.namespace") env[e.name] = NS;
    else if (field === "metadata.name") env[e.name] = `${NAME}-test`;
  }
  return env;
}

/** What must hold after any switch: only nthd's workload, pods, budget and RBAC are left. */
async function assertOnlyNthdLeft(kind: "Deployment" | "DaemonSet", manifest: string) {
  // Plain objects: the client's model classes would defeat deep equality.
  const rendered = (
    JSON.parse(JSON.stringify(loadAllYaml(manifest))) as { kind: string; spec?: unknown }[]
  ).filter(Boolean);
  const want = rendered.find((o) => o.kind === kind) as {
    spec: { template: { spec: { containers: V1Container[]; volumes?: { name: string }[] } } };
  };
  const live =
    kind === "Deployment"
      ? await apps.readNamespacedDeployment({ name: NAME, namespace: NS })
      : await apps.readNamespacedDaemonSet({ name: NAME, namespace: NS });
  const liveSpec = live.spec?.template.spec;
  // NTH's container, environment and volumes went with kOps' field manager.
  assert.deepEqual(
    liveSpec?.containers.map((c) => c.name),
    want.spec.template.spec.containers.map((c) => c.name),
  );
  assert.deepEqual(
    liveSpec?.containers[0]?.env?.map((e) => e.name),
    want.spec.template.spec.containers[0]?.env?.map((e) => e.name),
  );
  assert.equal(liveSpec?.containers[0]?.image, "registry.example.com/nthd:0.1.0");
  assert.deepEqual(
    (liveSpec?.volumes ?? []).map((v) => v.name).sort(),
    (want.spec.template.spec.volumes ?? []).map((v) => v.name).sort(),
  );
  assert.equal(live.metadata?.labels?.["addon.kops.k8s.io/name"], undefined, "kOps' labels gone");
  assert.match(live.metadata?.labels?.["helm.sh/chart"] ?? "", /^nthd-/);
  // kOps' ClusterRole rules (nodes update, daemonsets get) are replaced by nthd's.
  const role = await rbac.readClusterRole({ name: NAME });
  const wantRole = rendered.find((o) => o.kind === "ClusterRole") as unknown as {
    rules: unknown[];
  };
  assert.deepEqual(JSON.parse(JSON.stringify(role.rules)), wantRole.rules);
  // No handler pod runs anything but nthd.
  const pods = await handlerPods();
  assert.ok(pods.length > 0, "nthd's pods run");
  for (const p of pods) {
    assert.deepEqual(
      p.spec?.containers.map((c) => c.image),
      ["registry.example.com/nthd:0.1.0"],
      `pod ${p.metadata?.name}`,
    );
  }
}

/** A JSON merge patch of a node, as the handlers write theirs. */
function patchNode(name: string, body: object): Promise<V1Node> {
  return core.patchNode({ name, body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
}

async function nodeOf(name: string): Promise<V1Node> {
  return core.readNode({ name });
}

const workloadNs = `kops-switch-${suffix}`;
const createdNodes: string[] = [];

before(async () => {
  await removeHandler(); // a run interrupted earlier may have left them
  await core.createNamespace({ body: { metadata: { name: workloadNs } } });
});

after(async () => {
  await removeHandler();
  await core.deleteNamespace({ name: workloadNs }).catch(() => undefined);
  for (const n of createdNodes) await core.deleteNode({ name: n }).catch(() => undefined);
});

describe("switching from kOps' handler as docs/kops.md says", () => {
  test("queue mode: one apply replaces kOps' Deployment; nthd drains the node NTH left", async () => {
    const cluster = `kops-switch-${suffix}.example.com`;
    const spec = `apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata:
  name: ${cluster}
spec:
  etcdClusters:
    - name: main
      etcdMembers: [{ instanceGroup: control-plane-${REGION}a, name: a }]
  subnets:
    - { name: ${REGION}a, zone: ${REGION}a, type: Private }
  nodeTerminationHandler:
    enabled: true
    enableSQSTerminationDraining: true
    version: v1.25.6
`;
    // kOps' AWS side: its queue, an instance of a managed group.
    const g = ground();
    const sqs = new SQSClient({ region: REGION, endpoint: g.motoUrl, credentials });
    const queueName = `${cluster.replaceAll(".", "-")}-nth`;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: queueName })))
      .QueueUrl as string;
    const ec2 = new EC2Client({ region: REGION, endpoint: g.motoUrl, credentials });
    const instanceId = (
      await ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12c6146b",
          MinCount: 1,
          MaxCount: 1,
          InstanceType: "m5.large",
          TagSpecifications: [
            { ResourceType: "instance", Tags: [{ Key: MANAGED_TAG, Value: "" }] },
          ],
        }),
      )
    ).Instances?.[0]?.InstanceId as string;

    // The control-plane node kOps places the handler on, and a worker NTH was draining.
    const controlPlane = `kops-cp-${suffix}`;
    const worker = `kops-w-${suffix}`;
    createdNodes.push(controlPlane, worker);
    await createNode({
      name: controlPlane,
      instanceId: `i-0c0${suffix}00000000`.slice(0, 19),
      capacityType: "on-demand",
      labels: { "node-role.kubernetes.io/control-plane": "" },
    });
    await patchNode(controlPlane, {
      spec: { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] },
    });
    await createNode({ name: worker, instanceId });
    await Promise.all([waitNodeReady(controlPlane), waitNodeReady(worker)]);
    await deployPinned(workloadNs, "app", {
      replicas: 2,
      nodeSelector: { "kubernetes.io/hostname": worker },
    });
    // NTH cordoned and tainted the worker, then was replaced before its drain finished:
    // its message is still on the queue (NTH deletes only after the drain).
    await patchNode(worker, {
      spec: {
        unschedulable: true,
        taints: [
          {
            key: "aws-node-termination-handler/spot-itn",
            value: "evt-from-nth",
            effect: "NoSchedule",
          },
        ],
      },
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({
          version: "0",
          id: `7a1e1c57-${suffix}`,
          "detail-type": "EC2 Spot Instance Interruption Warning",
          source: "aws.ec2",
          account: ACCOUNT,
          time: new Date().toISOString(),
          region: REGION,
          resources: [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${instanceId}`],
          detail: { "instance-id": instanceId, "instance-action": "terminate" },
        }),
      }),
    );

    applyAsKops(["addon-common.yaml", "addon-queue.yaml"], queueUrl);
    await eventually("kOps' handler pod runs", async () =>
      (await handlerPods()).some((p) => p.status?.phase === "Running") ? true : undefined,
    );

    const ws = workspace(spec, "deployment");
    let nthd: NthdProcess | undefined;
    let sa: Awaited<ReturnType<typeof serviceAccountKubeconfig>> | undefined;
    try {
      followDocs(ws);
      const manifest = readFileSync(join(ws.dir, "nthd-kops.yaml"), "utf8");
      await assertOnlyNthdLeft("Deployment", manifest);
      const budget = await policy.readNamespacedPodDisruptionBudget({ name: NAME, namespace: NS });
      assert.equal(budget.spec?.selector?.matchLabels?.["kops.k8s.io/nth-mode"], undefined);
      assert.equal(budget.spec?.selector?.matchLabels?.["kubernetes.io/os"], "linux");
      const rs = await apps.listNamespacedReplicaSet({
        namespace: NS,
        labelSelector: `app.kubernetes.io/name=${NAME}`,
      });
      for (const r of rs.items) {
        const image = r.spec?.template?.spec?.containers[0]?.image ?? "";
        if (image.includes(NAME))
          assert.equal(r.status?.replicas ?? 0, 0, "kOps' ReplicaSet is empty");
      }

      // nthd as the new pod runs it: its environment, its ServiceAccount's RBAC.
      const deployment = await apps.readNamespacedDeployment({ name: NAME, namespace: NS });
      const container = deployment.spec?.template.spec?.containers[0] as V1Container;
      const env = podEnvironment(container, controlPlane);
      assert.equal(env.QUEUE_URL, `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueName}`);
      sa = await serviceAccountKubeconfig(NS, NAME);
      nthd = startNthd({
        ...env,
        KUBECONFIG: sa.kubeconfig,
        // The ground's AWS (moto) and no listeners on the host's ports.
        AWS_ENDPOINT: g.motoUrl,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ENABLE_PROBES_SERVER: "false",
        ENABLE_PROMETHEUS_SERVER: "false",
        JSON_LOGGING: "false",
      });
      const running = nthd;
      await eventually(
        "nthd drains the node NTH had started on",
        async () => {
          const pods = await core.listNamespacedPod({
            namespace: workloadNs,
            fieldSelector: `spec.nodeName=${worker}`,
          });
          return pods.items.length === 0 ? true : undefined;
        },
        90_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- nthd ---\n${running.output()}`);
      });
      const node = await nodeOf(worker);
      assert.equal(node.spec?.unschedulable, true);
      const spotTaints = (node.spec?.taints ?? []).filter(
        (t) => t.key === "aws-node-termination-handler/spot-itn",
      );
      assert.equal(spotTaints.length, 1, "NTH's taint is kept, never doubled");
      await eventually("the message is deleted", async () => {
        const a = (
          await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: queueUrl,
              AttributeNames: [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
              ],
            }),
          )
        ).Attributes;
        return Number(a?.ApproximateNumberOfMessages) +
          Number(a?.ApproximateNumberOfMessagesNotVisible) ===
          0
          ? true
          : undefined;
      });
    } finally {
      await nthd?.stop();
      sa?.cleanup();
      rmSync(ws.dir, { recursive: true, force: true });
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
      await removeHandler();
      // Fewer nodes for the IMDS DaemonSet's rollout that follows.
      for (const n of [controlPlane, worker])
        await core.deleteNode({ name: n }).catch(() => undefined);
    }
  });

  test("IMDS mode: one apply replaces kOps' DaemonSet; nthd gives back the node NTH cordoned for a reboot", async () => {
    const cluster = `kops-imds-${suffix}.example.com`;
    const spec = `apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata:
  name: ${cluster}
spec:
  subnets:
    - { name: ${REGION}a, zone: ${REGION}a, type: Private }
  nodeTerminationHandler:
    enabled: true
    enableSQSTerminationDraining: false
`;
    const rebooted = `kops-reboot-${suffix}`;
    const waiting = `kops-wait-${suffix}`;
    createdNodes.push(rebooted, waiting);
    await createNode({ name: rebooted, instanceId: `i-0aa${suffix}00000000`.slice(0, 19) });
    await createNode({ name: waiting, instanceId: `i-0bb${suffix}00000000`.slice(0, 19) });
    await Promise.all([waitNodeReady(rebooted), waitNodeReady(waiting)]);
    // NTH's marks for a scheduled reboot: cordon, its labels, the action's time.
    const now = Math.floor(Date.now() / 1000);
    const mark = (name: string, actedAt: number) =>
      patchNode(name, {
        metadata: {
          labels: {
            "aws-node-termination-handler/action": "UncordonAfterReboot",
            "aws-node-termination-handler/action-time": String(actedAt),
            "aws-node-termination-handler/event-id": `instance-event-${suffix}`,
          },
        },
        spec: {
          unschedulable: true,
          taints: [
            { key: "aws-node-termination-handler/scheduled-maintenance", effect: "NoSchedule" },
          ],
        },
      });
    await mark(rebooted, now - 3600); // acted an hour ago; the host has been up 10 minutes
    await mark(waiting, now - 60); // acted a minute ago; the host has not rebooted since

    applyAsKops(["addon-common.yaml", "addon-imds.yaml"]);
    await eventually("kOps' handler pods run on the nodes", async () => {
      const on = new Set((await handlerPods()).map((p) => p.spec?.nodeName));
      return on.has(rebooted) && on.has(waiting) ? true : undefined;
    });

    const ws = workspace(spec, "daemonset");
    const uptime = join(ws.dir, "uptime");
    writeFileSync(uptime, "600.00 1200.00\n");
    const imds = await startMetadataMock(["spot", "-d", "3600"]);
    const nthds: NthdProcess[] = [];
    let sa: Awaited<ReturnType<typeof serviceAccountKubeconfig>> | undefined;
    try {
      followDocs(ws);
      const manifest = readFileSync(join(ws.dir, "nthd-kops.yaml"), "utf8");
      await assertOnlyNthdLeft("DaemonSet", manifest);
      // nthd's DaemonSet runs where kOps' did: on every node, tainted ones included.
      await eventually("nthd's pods on both marked nodes", async () => {
        const on = new Set((await handlerPods()).map((p) => p.spec?.nodeName));
        return on.has(rebooted) && on.has(waiting) ? true : undefined;
      });
      const ds = await apps.readNamespacedDaemonSet({ name: NAME, namespace: NS });
      const container = ds.spec?.template.spec?.containers[0] as V1Container;
      sa = await serviceAccountKubeconfig(NS, NAME);
      for (const node of [rebooted, waiting]) {
        nthds.push(
          startNthd({
            ...podEnvironment(container, node),
            KUBECONFIG: sa.kubeconfig,
            INSTANCE_METADATA_URL: imds.url,
            UPTIME_FROM_FILE: uptime,
            ENABLE_PROBES_SERVER: "false",
            ENABLE_PROMETHEUS_SERVER: "false",
            JSON_LOGGING: "false",
          }),
        );
      }
      const [first] = nthds as [NthdProcess];
      await eventually(
        "the rebooted node is given back",
        async () => {
          const n = await nodeOf(rebooted);
          return n.spec?.unschedulable !== true ? n : undefined;
        },
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- nthd ---\n${first.output()}`);
      });
      const back = await nodeOf(rebooted);
      const labels = Object.keys(back.metadata?.labels ?? {});
      assert.deepEqual(
        labels.filter((l) => l.startsWith("aws-node-termination-handler/")),
        [],
        "NTH's labels removed",
      );
      assert.deepEqual(
        (back.spec?.taints ?? []).filter((t) => t.key.startsWith("aws-node-termination-handler/")),
        [],
        "NTH's taint removed",
      );
      const events = await core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: `involvedObject.name=${rebooted}`,
      });
      assert.ok(
        events.items.some((e) => e.reason === "Uncordon" && /rebooted/.test(e.message ?? "")),
        "an Uncordon Event says why",
      );
      // The other host has not rebooted since NTH acted: it stays as NTH left it.
      await eventually("nthd on the other node has started", async () =>
        /IMDS monitors started/.test((nthds[1] as NthdProcess).output()) ? true : undefined,
      );
      const held = await nodeOf(waiting);
      assert.equal(held.spec?.unschedulable, true);
      assert.equal(
        held.metadata?.labels?.["aws-node-termination-handler/action"],
        "UncordonAfterReboot",
      );
    } finally {
      await Promise.all(nthds.map((n) => n.stop()));
      await imds.stop();
      sa?.cleanup();
      rmSync(ws.dir, { recursive: true, force: true });
      await removeHandler();
    }
  });
});
