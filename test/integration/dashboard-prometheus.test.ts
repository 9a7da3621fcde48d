/**
 * The dashboard and the alert rules against a real Prometheus server (built from its Go module
 * by test/env/install-peers.sh) scraping two real nthd processes through an interruption: one
 * in queue mode (a Spot warning and a malformed message on moto's SQS), one in IMDS mode (a Spot
 * notice from the metadata emulator), the queue processor also running its periodic drain audit
 * over a node whose pods a PodDisruptionBudget holds. Every panel query and every alert
 * expression must return series; the alert meant to fire in this scenario fires and no other one
 * does. The scrape job is named aws-node-termination-handler, as for a release that kept NTH's
 * name.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CoreV1Api } from "@kubernetes/client-node";
import { CHART_DIR, renderChart } from "../env/chart.ts";
import {
  createNode,
  createPdb,
  deployPinned,
  freePort,
  ground,
  kubeConfig,
  type MetadataMock,
  peerBinary,
  randomInstanceId,
  startMetadataMock,
  waitNodeReady,
} from "../env/ground.ts";
import { eventually, type NthdProcess, scrapeMetrics, startNthd } from "../env/nthd-process.ts";
import { alertExprs, dashboardExprs } from "../unit/observe-dashboard-names.ts";

const REPO = join(CHART_DIR, "..", "..");
const REGION = "us-east-1";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const suffix = Math.random().toString(36).slice(2, 7);
const namespace = `dash-${suffix}`;
const core = kubeConfig().makeApiClient(CoreV1Api);
const JOB = "aws-node-termination-handler";

let prometheus: ChildProcess | undefined;
let promUrl = "";
let promDir = "";
let imds: MetadataMock | undefined;
const nthds: NthdProcess[] = [];
const nodes: string[] = [];

interface PromResult {
  status: string;
  data: { resultType: string; result: unknown[] };
  error?: string;
}

async function query(expr: string): Promise<PromResult> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResult;
}

/** A panel query as Grafana sends it with every variable at "All". */
function asGrafanaSends(expr: string): string {
  return expr
    .replaceAll("$namespace", ".*")
    .replaceAll("$job", ".*")
    .replaceAll("$pod", ".*")
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__range", "10m");
}

/** An alert expression without its threshold: the series it compares (absent(x): x). */
function alertSeries(expr: string): string {
  const absent = /^absent\((.*)\)$/.exec(expr);
  if (absent) return absent[1] as string;
  return expr.replace(/\s*(==|!=|>=|<=|>|<)\s*[\d.]+\s*$/, "");
}

async function nodeWithPods(name: string, instanceId: string): Promise<void> {
  nodes.push(name);
  await createNode({ name, instanceId, labels: { "dash-test": name } });
  await waitNodeReady(name);
  await deployPinned(namespace, name, { replicas: 2, nodeSelector: { "dash-test": name } });
}

before(async () => {
  const g = ground();
  await core.createNamespace({ body: { metadata: { name: namespace } } });

  // Queue mode: a managed instance with a node and pods, a queue with a Spot warning for it
  // and a malformed message.
  const sqs = new SQSClient({ region: REGION, endpoint: g.motoUrl, credentials });
  const ec2 = new EC2Client({ region: REGION, endpoint: g.motoUrl, credentials });
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `dash-${suffix}` })))
    .QueueUrl as string;
  const queued = (
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [{ Key: "aws-node-termination-handler/managed", Value: "" }],
          },
        ],
      }),
    )
  ).Instances?.[0]?.InstanceId as string;
  await nodeWithPods(`dash-q-${suffix}`, queued);
  const imdsNode = `dash-i-${suffix}`;
  await nodeWithPods(imdsNode, randomInstanceId());
  // Not interrupted: its pods are held by a budget, which the drain audit reports.
  const held = `dash-h-${suffix}`;
  await nodeWithPods(held, randomInstanceId());
  await createPdb(namespace, held, 2);
  imds = await startMetadataMock(["spot", "-a", "terminate", "-I"]);

  const [queuePort, imdsPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const common = {
    KUBECONFIG: g.kubeconfig,
    ENABLE_PROMETHEUS_SERVER: "true",
    NTHD_BIND_ADDRESS: "127.0.0.1",
    EMIT_KUBERNETES_EVENTS: "true",
  };
  nthds.push(
    startNthd({
      ...common,
      PROMETHEUS_SERVER_PORT: String(queuePort),
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      QUEUE_URL: queueUrl,
      AWS_REGION: REGION,
      AWS_ENDPOINT: g.motoUrl,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      SQS_MSG_VISIBILITY_TIMEOUT_SEC: "5",
      NTHD_AUDIT_INTERVAL_SECONDS: "60",
    }),
    startNthd({
      ...common,
      PROMETHEUS_SERVER_PORT: String(imdsPort),
      NODE_NAME: imdsNode,
      INSTANCE_METADATA_URL: imds.url,
    }),
  );

  promDir = mkdtempSync(join(tmpdir(), "nthd-prometheus-"));
  const config = join(promDir, "prometheus.yml");
  writeFileSync(
    config,
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${join(REPO, "dashboards", "nthd-alerts.yaml")}
scrape_configs:
  - job_name: ${JOB}
    static_configs:
      - targets: ["127.0.0.1:${queuePort}"]
        labels: { namespace: kube-system, pod: nthd-queue-0 }
      - targets: ["127.0.0.1:${imdsPort}"]
        labels: { namespace: kube-system, pod: nthd-imds-0 }
`,
  );
  promUrl = `http://127.0.0.1:${promPort}`;
  prometheus = spawn(
    peerBinary("prometheus"),
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(promDir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: "ignore" },
  );
  await eventually(
    "Prometheus ready",
    async () => ((await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
  );

  // The first audit (15 s after start) runs before any drain, which would put it off.
  await eventually(
    "the queue processor's first drain audit",
    async () =>
      /^nthd_audit_runs_total\{result="ok"\} 1$/m.test(await scrapeMetrics(queuePort))
        ? true
        : undefined,
    60_000,
  );
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({
        version: "0",
        id: `dash-${suffix}`,
        "detail-type": "EC2 Spot Instance Interruption Warning",
        source: "aws.ec2",
        account: "123456789012",
        time: new Date().toISOString(),
        region: REGION,
        resources: [`arn:aws:ec2:${REGION}:123456789012:instance/${queued}`],
        detail: { "instance-id": queued, "instance-action": "terminate" },
      }),
    }),
  );
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{not json" }));
});

after(async () => {
  await Promise.all(nthds.map((n) => n.stop()));
  if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus?.once("exit", r));
    prometheus.kill("SIGTERM");
    await exited;
  }
  await imds?.stop();
  rmSync(promDir, { recursive: true, force: true });
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
});

describe("the dashboard and alerts against a real Prometheus", () => {
  test("both handlers drain, and Prometheus has scraped the result", async () => {
    await eventually(
      "two completed drains in Prometheus",
      async () => {
        const r = await query(`sum(nthd_drains_total{outcome="completed",job="${JOB}"})`);
        const value = Number((r.data.result[0] as { value?: [number, string] })?.value?.[1] ?? 0);
        return value >= 2 ? true : undefined;
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${nthds.map((n) => n.output()).join("\n---\n")}`);
    });
  });

  test("every dashboard panel query returns series", async () => {
    // rate() and increase() need two samples of a series: a few scrapes after the drains.
    let empty: string[] = [];
    await eventually(
      "every panel with series",
      async () => {
        empty = [];
        for (const expr of dashboardExprs()) {
          const r = await query(asGrafanaSends(expr));
          assert.equal(r.status, "success", `${expr}: ${r.error}`);
          if (r.data.result.length === 0) empty.push(expr);
        }
        return empty.length === 0 ? true : undefined;
      },
      30_000,
    ).catch(() => undefined);
    assert.deepEqual(empty, [], "panel queries without series");
  });

  test("the memory and NTH-compatible panels see only nthd's pods", async () => {
    const memory = dashboardExprs().find((e) => e.includes("process_resident_memory_bytes"));
    assert.match(memory ?? "", /job=~"\$job",pod=~"\$pod"/);
    const perPod = await query(
      `count by (pod) (process_resident_memory_bytes{job="${JOB}",pod=~"nthd-.*"})`,
    );
    assert.equal(perPod.data.result.length, 2);
  });

  test("every alert expression's series exist; the alert meant to fire fires, no other", async () => {
    const empty: string[] = [];
    for (const expr of alertExprs()) {
      const r = await query(alertSeries(expr));
      assert.equal(r.status, "success", `${expr}: ${r.error}`);
      if (r.data.result.length === 0) empty.push(expr);
    }
    assert.deepEqual(empty, [], "alert expressions without series");
    // The malformed message fires NthdMalformedMessages (no `for`). Everything else is quiet:
    // both targets up and ready, queue and metadata polled, drains completed in time.
    const firing = await eventually(
      "NthdMalformedMessages firing",
      async () => {
        const res = await fetch(`${promUrl}/api/v1/alerts`);
        const body = (await res.json()) as {
          data: { alerts: { labels: { alertname: string }; state: string }[] };
        };
        const names = body.data.alerts
          .filter((a) => a.state === "firing")
          .map((a) => a.labels.alertname);
        return names.includes("NthdMalformedMessages") ? names : undefined;
      },
      60_000,
    );
    assert.deepEqual([...new Set(firing)].sort(), ["NthdMalformedMessages"]);
  });

  test("the chart's rules for IMDS mode carry no queue alert", () => {
    const groups = (mode: string[]) =>
      (
        renderChart("r", "kube-system", ["--set", "prometheusRule.create=true", ...mode]).find(
          (o) => o.kind === "PrometheusRule",
        ) as unknown as { spec: { groups: { name: string; rules: { alert: string }[] }[] } }
      ).spec.groups;
    const imdsRules = groups([]);
    assert.deepEqual(
      imdsRules.map((g) => g.name),
      ["nthd", "nthd-imds"],
    );
    assert.ok(
      !imdsRules.flatMap((g) => g.rules.map((r) => r.alert)).includes("NthdQueueProcessorAbsent"),
    );
    const queueRules = groups([
      "--set",
      "mode=queue",
      "--set",
      "queueURL=https://sqs.us-east-1.amazonaws.com/1/q",
    ]);
    assert.deepEqual(
      queueRules.map((g) => g.name),
      ["nthd", "nthd-queue"],
    );
    assert.ok(
      readFileSync(join(REPO, "dashboards", "nthd-alerts.yaml"), "utf8").includes("nthd-queue"),
    );
  });
});
