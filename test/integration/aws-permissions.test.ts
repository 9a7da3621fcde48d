/**
 * nthd under kOps' IAM policy, which grants neither sqs:ChangeMessageVisibility,
 * autoscaling:DescribeLifecycleHooks nor autoscaling:RecordLifecycleActionHeartbeat. A moto of
 * its own enforces IAM for real (INITIAL_NO_AUTH_ACTION_COUNT: after the first three calls
 * every request is authorized against moto's IAM users); the test gives nthd a user with
 * exactly kOps' policy. nthd starts, says at once which permissions are missing and what stops
 * working (log, nthd_aws_permission_missing), and `nthd doctor` names each one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createAwsClients } from "../../src/aws/clients.ts";
import { probePermissions } from "../../src/aws/permissions.ts";
import { freePort, ground } from "../env/ground.ts";
import { type MotoServer, motoPython, startMoto } from "../env/moto/start.ts";
import { eventually, metricSum, scrapeMetrics, startNthd } from "../env/nthd-process.ts";

const REPO = join(new URL(".", import.meta.url).pathname, "..", "..");
const REGION = "us-east-1";
/** The handler's policy kOps attaches (without IRSA, to the control-plane role). */
const KOPS_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "ec2:DescribeInstances",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeTags",
        "autoscaling:CompleteLifecycleAction",
      ],
      Resource: "*",
    },
  ],
};
const MISSING = [
  "autoscaling:DescribeLifecycleHooks",
  "autoscaling:RecordLifecycleActionHeartbeat",
  "sqs:ChangeMessageVisibility",
];

type Keys = { accessKeyId: string; secretAccessKey: string };
let moto: MotoServer;
let kops: Keys;
let queueUrl: string;

before(async () => {
  moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "3" } });
  const made = spawnSync(
    motoPython(),
    [
      join(REPO, "test", "env", "moto", "iam_users.py"),
      moto.url,
      "kops-nth",
      JSON.stringify(KOPS_POLICY),
    ],
    { encoding: "utf8" },
  );
  assert.equal(made.status, 0, made.stderr);
  const keys = JSON.parse(made.stdout) as { admin: Keys; user: Keys };
  kops = keys.user;
  const sqs = new SQSClient({ region: REGION, endpoint: moto.url, credentials: keys.admin });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "kops-nth" }))).QueueUrl as string;
});

after(async () => {
  await moto?.stop();
});

describe("kOps' IAM policy: nthd degrades loudly", () => {
  test("the probe finds exactly the three actions kOps' policy lacks", async () => {
    const clients = createAwsClients(
      { queueUrl, awsRegion: REGION, awsEndpoint: moto.url },
      { credentials: kops, maxAttempts: 1, observe: () => {} },
    );
    const results = await probePermissions(clients, queueUrl);
    const state = Object.fromEntries(results.map((r) => [r.action, r.state]));
    assert.deepEqual(
      results
        .filter((r) => r.state === "denied")
        .map((r) => r.action)
        .sort(),
      MISSING,
    );
    assert.equal(state["sqs:DeleteMessage"], "allowed");
    assert.equal(state["ec2:DescribeInstances"], "allowed");
    assert.equal(state["autoscaling:CompleteLifecycleAction"], "allowed");
  });

  test("nthd starts, names each missing permission and what stops working, and counts it", async () => {
    const metricsPort = await freePort();
    const probesPort = await freePort();
    const nthd = startNthd({
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      QUEUE_URL: queueUrl,
      AWS_REGION: REGION,
      AWS_ENDPOINT: moto.url,
      AWS_ACCESS_KEY_ID: kops.accessKeyId,
      AWS_SECRET_ACCESS_KEY: kops.secretAccessKey,
      KUBECONFIG: ground().kubeconfig,
      ENABLE_PROMETHEUS_SERVER: "true",
      PROMETHEUS_SERVER_PORT: String(metricsPort),
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: String(probesPort),
      NTHD_BIND_ADDRESS: "127.0.0.1",
    });
    try {
      await eventually(
        "nthd ready despite the narrower policy",
        async () =>
          (await fetch(`http://127.0.0.1:${probesPort}/readyz`).catch(() => undefined))?.ok
            ? true
            : undefined,
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${nthd.output()}`);
      });
      const lines = nthd
        .output()
        .split("\n")
        .filter((l) => l.includes("AWS permission missing"))
        .map((l) => JSON.parse(l) as { action: string; without: string; level: number | string });
      assert.deepEqual(lines.map((l) => l.action).sort(), MISSING);
      const visibility = lines.find((l) => l.action === "sqs:ChangeMessageVisibility");
      assert.match(visibility?.without ?? "", /not kept invisible/);
      const metrics = await scrapeMetrics(metricsPort);
      for (const action of MISSING) {
        assert.equal(metricSum(metrics, "nthd_aws_permission_missing", { action }), 1, action);
      }
      assert.equal(
        metricSum(metrics, "nthd_aws_permission_missing", { action: "sqs:DeleteMessage" }),
        0,
      );
    } finally {
      await nthd.stop();
    }
  });

  test("nthd doctor lists each missing permission with what stops working", () => {
    const run = spawnSync(process.execPath, ["src/main.ts", "doctor", "--json"], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 120_000,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ENABLE_SQS_TERMINATION_DRAINING: "true",
        QUEUE_URL: queueUrl,
        AWS_REGION: REGION,
        AWS_ENDPOINT: moto.url,
        AWS_ACCESS_KEY_ID: kops.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kops.secretAccessKey,
        KUBECONFIG: ground().kubeconfig,
      },
    });
    const report = JSON.parse(run.stdout) as {
      checks: { id: string; status: string; detail: string; fix?: string }[];
    };
    for (const action of MISSING) {
      const check = report.checks.find((c) => c.id === `permission:${action}`);
      assert.equal(check?.status, "warn", `${action}: ${JSON.stringify(check)}`);
      assert.match(check?.detail ?? "", /^denied: /);
      assert.match(check?.fix ?? "", new RegExp(`grant ${action}`));
    }
    assert.equal(
      report.checks.find((c) => c.id === "permission:sqs:DeleteMessage")?.status,
      "pass",
    );
  });
});
