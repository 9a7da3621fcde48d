/**
 * Slimming nodes and pods on arrival keeps exactly what nthd reads: the
 * planner decides the same on a slim pod as on the full one, node records,
 * taints, labels and readiness survive, and the bulk (images, managed
 * fields, container specs, status) is gone.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { type PlanSettings, planDrain } from "../../src/drain/planner.ts";
import { markPatch, readRecord, readState } from "../../src/drain/record.ts";
import { slimNode, slimPdb, slimPod } from "../../src/kube/slim.ts";

const NOW = new Date("2026-01-01T00:00:00Z");

const managedFields = Array.from({ length: 6 }, (_, i) => ({
  manager: `controller-${i}`,
  operation: "Update",
  fieldsType: "FieldsV1",
  fieldsV1: { "f:status": { "f:conditions": { ".": {}, [`k:{"type":"T${i}"}`]: {} } } },
}));

function fullNode(): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "ip-10-0-0-1.ec2.internal",
      uid: "node-uid",
      resourceVersion: "4242",
      creationTimestamp: NOW,
      labels: {
        "node.kubernetes.io/instance-type": "m6i.large",
        "topology.kubernetes.io/zone": "us-east-1a",
        "karpenter.sh/capacity-type": "spot",
        "nthd/state": "draining",
      },
      annotations: {
        "nthd/record": JSON.stringify({
          v: 1,
          notices: [
            {
              id: "n1",
              kind: "spot-interruption",
              action: "drain",
              instanceId: "i-0123456789abcdef0",
              source: "queue",
              receivedAt: NOW.toISOString(),
              detail: {},
            },
          ],
          action: "drain",
          at: NOW.toISOString(),
          deadline: NOW.toISOString(),
          cordoned: true,
          taints: [],
          lbExcluded: false,
        }),
        "node.alpha.kubernetes.io/ttl": "0",
        "csi.volume.kubernetes.io/nodeid": JSON.stringify({ "ebs.csi.aws.com": "i-0123" }),
      },
      managedFields,
    },
    spec: {
      providerID: "aws:///us-east-1a/i-0123456789abcdef0",
      unschedulable: true,
      taints: [{ key: "example.com/dedicated", value: "x", effect: "NoSchedule" }],
      podCIDR: "10.1.0.0/24",
    },
    status: {
      conditions: [
        { type: "MemoryPressure", status: "False" },
        { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is ready" },
      ],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
      capacity: { cpu: "2", memory: "8Gi" },
      images: Array.from({ length: 50 }, (_, i) => ({
        names: [`registry.example/image-${i}@sha256:${"a".repeat(64)}`],
        sizeBytes: 1e8,
      })),
      nodeInfo: {
        architecture: "amd64",
        bootID: "b",
        containerRuntimeVersion: "containerd://2.0",
        kernelVersion: "6.1",
        kubeProxyVersion: "",
        kubeletVersion: "v1.35.0",
        machineID: "m",
        operatingSystem: "linux",
        osImage: "Amazon Linux 2023",
        systemUUID: "s",
      },
    },
  };
}

interface PodOpts {
  owner?: string | null;
  phase?: string;
  deleting?: boolean;
  mirror?: boolean;
  emptyDir?: boolean;
  priority?: number;
  grace?: number;
  labels?: Record<string, string>;
}

function fullPod(name: string, o: PodOpts = {}): V1Pod {
  const owner = o.owner === undefined ? "ReplicaSet" : o.owner;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "app",
      uid: `uid-${name}`,
      resourceVersion: "7",
      labels: o.labels ?? { app: "web" },
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": "{".repeat(2000),
        ...(o.mirror ? { "kubernetes.io/config.mirror": "hash" } : {}),
      },
      ownerReferences: [
        { apiVersion: "v1", kind: "Other", name: "not-controller", uid: "x", controller: false },
        ...(owner
          ? [
              {
                apiVersion: "apps/v1",
                kind: owner,
                name: `${name}-owner`,
                uid: "o",
                controller: true,
              },
            ]
          : []),
      ],
      ...(o.deleting ? { deletionTimestamp: NOW } : {}),
      managedFields,
    },
    spec: {
      nodeName: "ip-10-0-0-1.ec2.internal",
      containers: [
        {
          name: "c",
          image: "registry.example/app:1",
          env: Array.from({ length: 30 }, (_, i) => ({ name: `E${i}`, value: "v" })),
        },
      ],
      volumes: [
        { name: "config", configMap: { name: "cm" } },
        ...(o.emptyDir ? [{ name: "scratch", emptyDir: { medium: "Memory" } }] : []),
      ],
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.grace !== undefined ? { terminationGracePeriodSeconds: o.grace } : {}),
    },
    status: {
      phase: o.phase ?? "Running",
      podIP: "10.1.0.5",
      containerStatuses: [
        { name: "c", image: "i", imageID: "d", ready: true, restartCount: 0, started: true },
      ],
    },
  };
}

const SETTINGS: PlanSettings = {
  ignoreDaemonSets: true,
  deleteLocalData: false,
  evictUnmanagedPods: false,
  podName: "nthd-abc",
  podNamespace: "app",
  podTerminationGracePeriodSeconds: -1,
  deadlineSafetyMarginSeconds: 10,
};

describe("slimNode", () => {
  test("keeps what the engine and the node index read", () => {
    const full = fullNode();
    const slim = slimNode(full);
    assert.equal(slim.metadata?.name, full.metadata?.name);
    assert.equal(slim.metadata?.resourceVersion, "4242");
    assert.deepEqual(slim.metadata?.labels, full.metadata?.labels);
    assert.deepEqual(slim.spec, {
      providerID: full.spec?.providerID,
      unschedulable: true,
      taints: full.spec?.taints,
    });
    assert.deepEqual(slim.status?.conditions, [{ type: "Ready", status: "True" }]);
    const record = readRecord(slim);
    assert.ok(record.ok && record.record?.notices[0]?.id === "n1");
    assert.deepEqual(record, readRecord(full));
    assert.equal(readState(slim), "draining");
    // The cordon's patch comes out the same from either copy.
    const notice = {
      id: "n2",
      kind: "rebalance-recommendation" as const,
      action: "cordon" as const,
      instanceId: "i-0123456789abcdef0",
      source: "queue" as const,
      receivedAt: NOW,
      detail: {},
    };
    const settings = { taintNode: true, taintEffect: "NoSchedule", excludeFromLoadBalancers: true };
    assert.deepEqual(
      markPatch(slim, notice, "cordon", NOW, settings as never, NOW),
      markPatch(full, notice, "cordon", NOW, settings as never, NOW),
    );
  });

  test("drops the bulk: images, managed fields, other annotations, addresses", () => {
    const full = fullNode();
    const slim = slimNode(full);
    assert.equal(slim.status?.images, undefined);
    assert.equal(slim.metadata?.managedFields, undefined);
    assert.deepEqual(Object.keys(slim.metadata?.annotations ?? {}), ["nthd/record"]);
    assert.equal(slim.status?.addresses, undefined);
    assert.ok(JSON.stringify(slim).length * 4 < JSON.stringify(full).length);
  });

  test("a bookmark (resourceVersion only) and a node without annotations or status", () => {
    assert.deepEqual(slimNode({ metadata: { resourceVersion: "9" } }), {
      metadata: { resourceVersion: "9" },
      spec: {},
    });
    const bare = slimNode({ metadata: { name: "n" } });
    assert.equal(bare.metadata?.annotations, undefined);
    assert.equal(bare.status, undefined);
  });
});

describe("slimPod", () => {
  const pods = [
    fullPod("plain", { priority: 5, grace: 45 }),
    fullPod("low", { priority: -10 }),
    fullPod("done", { phase: "Succeeded" }),
    fullPod("going", { deleting: true }),
    fullPod("static", { mirror: true, owner: "Node" }),
    fullPod("daemon", { owner: "DaemonSet" }),
    fullPod("bare", { owner: null }),
    fullPod("scratch", { emptyDir: true }),
    fullPod("nthd-abc"),
    fullPod("other-app", { labels: { app: "db" } }),
  ];
  const pdbs = [
    {
      metadata: { name: "web", namespace: "app", managedFields },
      spec: { selector: { matchLabels: { app: "web" } }, maxUnavailable: 1 },
      status: { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    },
    {
      metadata: { name: "db", namespace: "app" },
      spec: {
        selector: { matchExpressions: [{ key: "app", operator: "In", values: ["db"] }] },
      },
      status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    },
  ];

  test("the planner decides the same on slim pods as on full ones", () => {
    const deadline = new Date(NOW.getTime() + 120_000);
    const full = planDrain({ pods, pdbs, now: NOW, deadline, settings: SETTINGS });
    const slim = planDrain({
      pods: pods.map(slimPod),
      pdbs: pdbs.map(slimPdb),
      now: NOW,
      deadline,
      settings: SETTINGS,
    });
    assert.deepEqual(slim, full);
    // Both PDBs took part: their headroom ordered the evictions.
    assert.deepEqual(new Set(full.evictions.map((e) => e.pdb)), new Set(["app/web", "app/db"]));
    // Every filter had a pod to decide on, so the comparison covers them all.
    assert.deepEqual(
      new Set(full.skipped.map((s) => s.code)),
      new Set([
        "completed",
        "terminating",
        "mirror",
        "daemonset",
        "unmanaged",
        "local-storage",
        "self",
      ]),
    );
  });

  test("drops containers, status details, managed fields and other annotations", () => {
    const slim = slimPod(fullPod("x", { emptyDir: true }));
    assert.deepEqual(Object.keys(slim.spec ?? {}).sort(), ["nodeName", "volumes"]);
    assert.deepEqual(slim.spec?.volumes, [{ name: "scratch", emptyDir: {} }]);
    assert.deepEqual(slim.status, { phase: "Running" });
    assert.equal(slim.metadata?.managedFields, undefined);
    assert.equal(slim.metadata?.annotations, undefined);
    assert.deepEqual(slim.metadata?.ownerReferences, [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "x-owner", uid: "o", controller: true },
    ]);
  });
});
