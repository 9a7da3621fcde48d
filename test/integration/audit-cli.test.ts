// `nthd audit` against the real ground: kwok nodes, each carrying one cause
// that keeps a drain from finishing within a Spot notice (a PDB at
// maxUnavailable 0, a StatefulSet whose PDB spans nodes, a 300 s grace
// period, a bare pod, emptyDir with DELETE_LOCAL_DATA=false), with PDB status
// computed by the real disruption controller. The CLI runs as a child
// process; its JSON is checked field by field, then queue mode's periodic
// audit is read back from /metrics.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { CoreV1Api } from "@kubernetes/client-node";
import { createNode, freePort, ground, kubeConfig, waitNodeReady } from "../env/ground.ts";
import { createQueue, motoClients, motoEnv } from "../env/moto/aws.ts";
import { type NthdProcess, runNthd, scrapeMetrics, startNthd } from "../env/nthd-process.ts";
import {
  createBarePod,
  createBudget,
  createDeployment,
  createStatefulSet,
  waitPdbsSettled,
  waitPodsReady,
} from "../env/workloads.ts";
import { eventually } from "../support/eventually.ts";
import { randomInstanceId } from "../support/ids.ts";

const run = Math.random().toString(36).slice(2, 7);
const ns = `audit-${run}`;
const POOL = "nthd-audit-test";
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const node = (what: string) => `audit-${what}-${run}`;
const NODES = ["ok", "frozen", "db", "db-other", "slow", "bare", "scratch"].map(node);

function audit(args: string[], env: Record<string, string> = {}) {
  return runNthd(["audit", ...args], {
    env: { PATH: process.env.PATH ?? "", KUBECONFIG: ground().kubeconfig, ...env },
  });
}

interface Blocker {
  code: string;
  object: string;
  pods: string[];
  detail: string;
  fix: string;
}
interface NodeEntry {
  name: string;
  zone: string;
  capacityType: string;
  instanceType: string;
  verdict: string;
  drainedSeconds: number | null;
  pods: Record<string, number>;
  blockers: Blocker[];
}
interface Report {
  notice: { kind: string; seconds: number; safetyMarginSeconds: number };
  settings: Record<string, unknown>;
  model: Record<string, number>;
  cluster: { selector: string; nodes: number; pods: number; podDisruptionBudgets: number };
  summary: { nodes: number; inTime: number; atRisk: number };
  nodes: NodeEntry[];
  together: {
    scope: string;
    zone: string;
    nodes: string[];
    nodesInTime: number;
    pods: Record<string, number>;
    drainedSeconds: number | null;
    lastEvictionSeconds: number | null;
    apiRequests: number;
    blockingPodDisruptionBudgets: { name: string; code: string; pods: number; fix: string }[];
    workloadsLosingAllReplicas: { workload: string; replicas: number }[];
    blockers: Blocker[];
  };
}

const byName = (r: Report, what: string) =>
  r.nodes.find((n) => n.name === node(what)) ?? assert.fail(`no node ${node(what)}`);

const onlyBlocker = (n: NodeEntry, code: string): Blocker => {
  assert.equal(n.verdict, "at-risk", n.name);
  assert.deepEqual(
    n.blockers.map((b) => b.code),
    [code],
    `${n.name}: ${JSON.stringify(n.blockers, null, 1)}`,
  );
  return n.blockers[0] as Blocker;
};

describe("nthd audit on the ground", () => {
  let report: Report;

  before(async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    for (const name of NODES) {
      await createNode(
        {
          name,
          instanceId: randomInstanceId(),
          labels: {
            [POOL]: run,
            "audit-node": name,
            ...([node("db"), node("db-other")].includes(name) ? { "audit-db": run } : {}),
          },
          // Room for one db pod: the hard spread then puts two on the other db node.
          ...(name === node("db-other") ? { maxPods: 1 } : {}),
        },
        kc,
      );
    }
    for (const name of NODES) await waitNodeReady(name, kc);
    const on = (what: string) => ({ nodeSelector: { "audit-node": node(what) } });
    await createDeployment(kc, ns, "web", 1, { ...on("ok"), graceSeconds: 5 });
    await createDeployment(kc, ns, "frozen", 2, on("frozen"));
    await createBudget(kc, ns, "frozen", { maxUnavailable: 0 });
    await createStatefulSet(kc, ns, "db", 3, {
      nodeSelector: { "audit-db": run },
      graceSeconds: 60,
      spreadOverNodes: true,
    });
    await createBudget(kc, ns, "db", { maxUnavailable: 1 });
    await createDeployment(kc, ns, "slow", 1, { ...on("slow"), graceSeconds: 300 });
    await createBarePod(kc, ns, "bare", on("bare"));
    await createDeployment(kc, ns, "scratch", 1, { ...on("scratch"), emptyDir: true });
    await waitPodsReady(kc, ns, 9);
    await waitPdbsSettled(kc, ns);
    const r = await audit(["--json", "-l", `${POOL}=${run}`]);
    assert.equal(r.code, 1, r.stderr);
    report = JSON.parse(r.stdout) as Report;
  });

  after(async () => {
    await core.deleteNamespace({ name: ns }).catch(() => {});
    for (const name of NODES) await core.deleteNode({ name }).catch(() => {});
  });

  test("the document's fields", () => {
    assert.deepEqual(Object.keys(report).sort(), [
      "cluster",
      "model",
      "nodes",
      "notice",
      "settings",
      "summary",
      "together",
    ]);
    assert.deepEqual(report.notice, {
      kind: "spot-interruption",
      seconds: 120,
      safetyMarginSeconds: 10,
    });
    assert.deepEqual(report.settings, {
      deleteLocalData: true,
      evictUnmanagedPods: true,
      ignoreDaemonSets: true,
      podTerminationGracePeriodSeconds: -1,
      maxConcurrentDrains: 100,
      kubeApiQps: 50,
      kubeApiBurst: 100,
    });
    assert.deepEqual(report.model, {
      startSeconds: 2,
      cordonsPerSecond: 25,
      podStartupSeconds: 10,
    });
    assert.equal(report.cluster.selector, `${POOL}=${run}`);
    assert.equal(report.cluster.nodes, NODES.length);
    assert.ok(report.cluster.pods >= 9 && report.cluster.podDisruptionBudgets >= 2);
    assert.deepEqual(report.summary, { nodes: 7, inTime: 3, atRisk: 4 });
    const ok = byName(report, "ok");
    assert.deepEqual(Object.keys(ok).sort(), [
      "blockers",
      "capacityType",
      "drainedSeconds",
      "instanceType",
      "name",
      "pods",
      "verdict",
      "zone",
    ]);
    assert.deepEqual(
      { ...ok, drainedSeconds: undefined },
      {
        name: node("ok"),
        zone: "us-east-1a",
        capacityType: "spot",
        instanceType: "m5.large",
        verdict: "in-time",
        drainedSeconds: undefined,
        pods: { evict: 1, skip: 0, clean: 1, cut: 0, left: 0 },
        blockers: [],
      },
    );
    assert.equal(ok.drainedSeconds, 7, "start 2 s + 5 s grace");
  });

  test("a PDB at maxUnavailable 0: named with its allowed disruptions, fixed by raising maxUnavailable", () => {
    const b = onlyBlocker(byName(report, "frozen"), "pdb-no-headroom");
    assert.equal(b.object, `PodDisruptionBudget ${ns}/frozen`);
    assert.equal(b.pods.length, 2);
    assert.match(
      b.detail,
      /^allows 0 disruptions \(maxUnavailable 0; 2 of 2 pods healthy, 2 required\)/,
    );
    assert.match(b.fix, /^set maxUnavailable to 1 or more/);
    assert.equal(byName(report, "frozen").drainedSeconds, null);
  });

  test("a StatefulSet whose PDB spans nodes: two of its pods here wait for each other", () => {
    const b = onlyBlocker(byName(report, "db"), "pdb-too-slow");
    assert.equal(b.object, `PodDisruptionBudget ${ns}/db`);
    assert.equal(b.pods.length, 1, "the first pod goes at once");
    assert.match(
      b.detail,
      /allows 1 disruption at a time \(maxUnavailable 1\) for 2 pods on this node/,
    );
    assert.match(
      b.detail,
      new RegExp(
        `StatefulSet ${ns}/db has a replacement Ready \\d+ s after the old pod is gone \\(60 s grace\\)`,
      ),
    );
    assert.match(
      b.fix,
      /^raise maxUnavailable to 2 .*topologySpreadConstraints on kubernetes\.io\/hostname.*shorten its terminationGracePeriodSeconds/,
    );
    assert.equal(
      byName(report, "db-other").verdict,
      "in-time",
      "alone, its one db pod goes at once",
    );
  });

  test("a 300 s grace period on a Spot node: the grace against the time left", () => {
    const b = onlyBlocker(byName(report, "slow"), "grace-too-long");
    assert.equal(b.object, `Deployment ${ns}/slow`);
    assert.match(
      b.detail,
      /^asks 300 s to stop \(terminationGracePeriodSeconds\) but a 120 s notice leaves 108 s/,
    );
    assert.match(
      b.fix,
      new RegExp(`terminationGracePeriodSeconds to at most 108 s on Deployment ${ns}/slow`),
    );
    assert.deepEqual(byName(report, "slow").pods, { evict: 1, skip: 0, clean: 0, cut: 1, left: 0 });
  });

  test("a bare pod: nothing recreates it", () => {
    const b = onlyBlocker(byName(report, "bare"), "unmanaged");
    assert.equal(b.object, `Pod ${ns}/bare`);
    assert.deepEqual(b.pods, [`${ns}/bare`]);
    assert.match(b.fix, /Deployment, StatefulSet or Job/);
  });

  test("emptyDir blocks only with DELETE_LOCAL_DATA=false, and says which volume", async () => {
    assert.equal(byName(report, "scratch").verdict, "in-time");
    const r = await audit(["--json", "-l", `audit-node=${node("scratch")}`], {
      DELETE_LOCAL_DATA: "false",
    });
    assert.equal(r.code, 1, r.stderr);
    const n = (JSON.parse(r.stdout) as Report).nodes[0] as NodeEntry;
    const b = onlyBlocker(n, "local-storage");
    assert.equal(b.object, `Deployment ${ns}/scratch`);
    assert.match(b.detail, /emptyDir \(scratch\) and DELETE_LOCAL_DATA=false/);
    assert.match(b.fix, /^set DELETE_LOCAL_DATA=true/);
  });

  test("every Spot node of the zone at once: the blocking PDBs and the workloads that lose every replica", () => {
    const t = report.together;
    assert.equal(t.scope, "spot-zone");
    assert.equal(t.zone, "us-east-1a");
    assert.deepEqual([...t.nodes].sort(), [...NODES].sort());
    assert.deepEqual(t.blockingPodDisruptionBudgets.map((p) => [p.name, p.code]).sort(), [
      [`${ns}/db`, "pdb-too-slow"],
      [`${ns}/frozen`, "pdb-no-headroom"],
    ]);
    const db = t.blockingPodDisruptionBudgets.find((p) => p.name === `${ns}/db`);
    assert.equal(db?.pods, 2, "two of three db pods wait behind the first");
    assert.match(db?.fix ?? "", /raise maxUnavailable to 3/);
    for (const w of ["frozen", "web", "slow", "scratch"]) {
      assert.ok(
        t.workloadsLosingAllReplicas.some((x) => x.workload === `Deployment ${ns}/${w}`),
        `${w}: ${JSON.stringify(t.workloadsLosingAllReplicas)}`,
      );
    }
    assert.ok(
      t.workloadsLosingAllReplicas.some(
        (x) => x.workload === `StatefulSet ${ns}/db` && x.replicas === 3,
      ),
    );
    assert.equal(t.drainedSeconds, null, "the frozen pods stay");
    assert.ok(t.apiRequests > 7 * 5, `${t.apiRequests} requests`);
  });

  test("exit 0 and a table when every audited node drains in time", async () => {
    const r = await audit(["-l", `audit-node=${node("ok")}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^${node("ok")} +us-east-1a +spot +1 +0 +in time +7 s +-$`, "m"),
    );
    assert.match(r.stdout, /^Every audited node drains within the 120 s notice\.$/m);
    assert.equal(r.stderr, "", "no progress line when stderr is not a terminal");
  });

  test("exit 2 on bad input", async () => {
    for (const [args, env, why] of [
      [["--kind", "bogus"], {}, /--kind bogus is not one of/],
      [["-l", `${POOL}=nobody-${run}`], {}, /no node matches/],
      [["-l", "a in (b"], {}, /--selector: unbalanced/],
      [["--kind", "rebalance-recommendation"], {}, /do not drain/],
      [[], { KUBECONFIG: "/nonexistent/kubeconfig" }, /cannot read the cluster/],
      [[], { DELETE_LOCAL_DATA: "maybe" }, /DELETE_LOCAL_DATA/],
    ] as const) {
      const r = await audit([...args], { ...env });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, why);
    }
  });

  test("queue mode's periodic audit exports the same verdicts as metrics", async () => {
    const g = ground();
    const { sqs } = motoClients(g.motoUrl);
    const { url: QueueUrl } = await createQueue(sqs, `nthd-audit-${run}`);
    const port = await freePort();
    let nthd: NthdProcess | undefined;
    try {
      nthd = startNthd({
        ENABLE_SQS_TERMINATION_DRAINING: "true",
        QUEUE_URL: QueueUrl,
        ...motoEnv(g.motoUrl),
        KUBECONFIG: g.kubeconfig,
        ENABLE_PROMETHEUS_SERVER: "true",
        PROMETHEUS_SERVER_PORT: String(port),
        NTHD_BIND_ADDRESS: "127.0.0.1",
        NTHD_AUDIT_INTERVAL_SECONDS: "60",
        NTHD_AUDIT_NODE_SELECTOR: `${POOL}=${run}`,
      });
      const metrics = await eventually(
        "the first audit's metrics",
        async () => {
          const text = await scrapeMetrics(port);
          return /^nthd_audit_runs_total\{result="ok"\} 1$/m.test(text) ? text : undefined;
        },
        60_000,
      );
      const pool = 'instance_type="m5.large",availability_zone="us-east-1a",capacity_type="spot"';
      assert.match(metrics, new RegExp(`^nthd_audit_nodes\\{${pool}\\} 7$`, "m"));
      assert.match(metrics, new RegExp(`^nthd_audit_nodes_at_risk\\{${pool}\\} 4$`, "m"));
      assert.match(
        metrics,
        new RegExp(`^nthd_audit_blocking_pdb_pods\\{pdb_namespace="${ns}",pdb="frozen"\\} 2$`, "m"),
      );
      assert.match(
        metrics,
        new RegExp(`^nthd_audit_blocking_pdb_pods\\{pdb_namespace="${ns}",pdb="db"\\} 1$`, "m"),
      );
      assert.match(metrics, /^nthd_audit_blocking_pdbs 2$/m);
      assert.match(
        metrics,
        /^nthd_audit_zone_pods_late\{availability_zone="us-east-1a"\} [1-9]\d*$/m,
      );
    } finally {
      const code = nthd ? await nthd.stop() : null;
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
      sqs.destroy();
      assert.equal(code, 0, nthd?.output());
    }
  });
});
