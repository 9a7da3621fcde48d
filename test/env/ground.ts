// What integration tests use: the running ground's endpoints, plus helpers
// that create kwok nodes and start metadata emulators on loopback.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  type V1Node,
  type V1Pod,
} from "@kubernetes/client-node";
import { eventually } from "../support/eventually.ts";
import { randomInstanceId } from "../support/ids.ts";
import type { GroundState } from "./ground-up.ts";
import { stateFile } from "./ground-up.ts";
import { freePort, peerBinary, reapPids, stopPids } from "./peers.ts";
import { type RestartablePeer, startRestartable } from "./restartable.ts";

export { freePort, peerBinary } from "./peers.ts";
export { randomInstanceId };

let cached: GroundState | undefined;

/** The ground started by the integration suite's global setup (or `npm run ground`). */
export function ground(): GroundState {
  if (cached !== undefined) return cached;
  try {
    cached = JSON.parse(readFileSync(stateFile(), "utf8")) as GroundState;
  } catch {
    throw new Error(
      `no test ground is running (${stateFile()} missing): run integration tests with npm run test:integration`,
    );
  }
  return cached;
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(ground().kubeconfig);
  return kc;
}

export interface NodeSpec {
  name: string;
  instanceId: string;
  zone?: string;
  instanceType?: string;
  capacityType?: "spot" | "on-demand";
  labels?: Record<string, string>;
  /** Pods the node can hold (kwok reports it as allocatable). */
  maxPods?: number;
}

/** Creates a kwok-managed node that looks like an EC2 instance's node. */
export async function createNode(spec: NodeSpec, kc = kubeConfig()): Promise<V1Node> {
  const zone = spec.zone ?? "us-east-1a";
  const capacity = { cpu: "8", memory: "32Gi", pods: String(spec.maxPods ?? 110) };
  const node: V1Node = {
    metadata: {
      name: spec.name,
      annotations: { "kwok.x-k8s.io/node": "fake" },
      labels: {
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": spec.instanceType ?? "m5.large",
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": zone.slice(0, -1),
        "karpenter.sh/capacity-type": spec.capacityType ?? "spot",
        type: "kwok",
        ...spec.labels,
      },
    },
    spec: {
      providerID: `aws:///${zone}/${spec.instanceId}`,
      taints: [],
    },
    status: { allocatable: capacity, capacity },
  };
  return kc.makeApiClient(CoreV1Api).createNode({ body: node });
}

/** Waits until kwok has marked the node Ready. */
export async function waitNodeReady(
  name: string,
  kc = kubeConfig(),
  timeoutMs = 30_000,
): Promise<void> {
  const api = kc.makeApiClient(CoreV1Api);
  await eventually(
    `node ${name} Ready`,
    async () => {
      const node = await api.readNode({ name });
      return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
        ? true
        : undefined;
    },
    timeoutMs,
  );
}

export interface MetadataMock {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts amazon-ec2-metadata-mock on 127.0.0.1 with the given scenario
 * arguments (e.g. ["spot", "-a", "terminate"]). One process per scenario.
 * `port` chosen in advance lets a test point nthd at it before it runs;
 * default a free port.
 */
export async function startMetadataMock(
  args: readonly string[] = [],
  opts: { port?: number } = {},
): Promise<MetadataMock> {
  const port = opts.port ?? (await freePort());
  const child = spawn(
    peerBinary("ec2-metadata-mock"),
    ["-n", "127.0.0.1", "-p", String(port), ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null) {
      stopPids([child.pid]);
      await reapPids([child.pid], 2000);
    }
  };
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (child.exitCode !== null)
      throw new Error(`ec2-metadata-mock exited ${child.exitCode}: ${output}`);
    try {
      // Any HTTP answer (401 in IMDSv2-only mode) means it is listening.
      await fetch(`${url}/latest/meta-data/`, { signal: AbortSignal.timeout(1000) });
      return { url, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`ec2-metadata-mock did not start: ${output}`);
}

/**
 * A Deployment of `replicas` pods pinned by `nodeSelector` (pods become
 * Running at once under kwok; `graceSeconds` bounds how long an evicted pod
 * takes to go away). Its pods carry the label app=`name`. Resolves once every
 * replica runs.
 */
export async function deployPinned(
  namespace: string,
  name: string,
  spec: { replicas: number; nodeSelector: Record<string, string>; graceSeconds?: number },
  kc = kubeConfig(),
): Promise<void> {
  const labels = { app: name };
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: spec.nodeSelector,
            terminationGracePeriodSeconds: spec.graceSeconds ?? 2,
            containers: [{ name, image: `registry.invalid/${name}:1` }],
          },
        },
      },
    },
  });
  const core = kc.makeApiClient(CoreV1Api);
  await eventually(`${spec.replicas} running pods of deployment ${namespace}/${name}`, async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
    return pods.items.filter((p) => p.status?.phase === "Running").length === spec.replicas
      ? true
      : undefined;
  });
}

/**
 * A PodDisruptionBudget named `app` over the pods labelled app=`app`. With
 * `expectAllowed`, resolves once the disruption controller has computed its
 * status and allows exactly that many disruptions.
 */
export async function createPdb(
  namespace: string,
  app: string,
  minAvailable: number,
  opts: { expectAllowed?: number } = {},
  kc = kubeConfig(),
): Promise<void> {
  const policy = kc.makeApiClient(PolicyV1Api);
  await policy.createNamespacedPodDisruptionBudget({
    namespace,
    body: {
      metadata: { name: app },
      spec: { minAvailable, selector: { matchLabels: { app } } },
    },
  });
  const want = opts.expectAllowed;
  if (want === undefined) return;
  await eventually(`PDB ${app} allowing ${want}`, async () => {
    const p = await policy.readNamespacedPodDisruptionBudget({ name: app, namespace });
    return p.status?.observedGeneration === 1 && p.status.disruptionsAllowed === want
      ? p
      : undefined;
  });
}

/** The namespace's pods on `node`; only those running and not being deleted unless `all`. */
export async function podsOnNode(
  namespace: string,
  node: string,
  opts: { all?: boolean } = {},
  kc = kubeConfig(),
): Promise<V1Pod[]> {
  const pods = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${node}` });
  return opts.all
    ? pods.items
    : pods.items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
}

/**
 * A namespace, a Ready kwok node labelled nthd-test=`namespace`, and a
 * Deployment "web" of `replicas` pods pinned to the node by that label.
 * Resolves once every replica runs; removing them is the caller's part.
 */
export async function nodeWithPods(
  spec: { namespace: string; node: string; replicas: number },
  kc = kubeConfig(),
): Promise<void> {
  const { namespace, node, replicas } = spec;
  const pin = { "nthd-test": namespace };
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  await createNode({ name: node, instanceId: randomInstanceId(), labels: pin }, kc);
  await waitNodeReady(node, kc);
  await deployPinned(namespace, "web", { replicas, nodeSelector: pin }, kc);
}

/**
 * A metadata emulator that can be frozen, killed and started again on the
 * same port (see restartable.ts), with the given scenario arguments.
 */
export async function startRestartableMetadataMock(
  args: readonly string[] = [],
): Promise<RestartablePeer & { readonly url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "nthd-aemm-"));
  const peer = await startRestartable({
    name: "ec2-metadata-mock (private)",
    command: peerBinary("ec2-metadata-mock"),
    args: ["-n", "127.0.0.1", "-p", String(port), ...args],
    logFile: join(dir, "aemm.log"),
    // Any HTTP answer (401 in IMDSv2-only mode) means it is listening.
    ready: async () => {
      await fetch(`${url}/latest/meta-data/`, { signal: AbortSignal.timeout(1000) });
      return true;
    },
    readyTimeoutMs: 15_000,
  });
  return { ...peer, url };
}
