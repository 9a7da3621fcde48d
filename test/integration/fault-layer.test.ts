// The fault layer itself, against the real peers: each fault does what the
// scenario tests count on (a refused port refuses, a hang hangs, a 503 is a
// 503 to the AWS SDK and to the Kubernetes client...), and healing restores
// the peer on the same address.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { ground, startRestartableMetadataMock } from "../env/ground.ts";
import {
  awsJsonError,
  type HttpFaultProxy,
  kubeStatus,
  startHttpFaultProxy,
} from "../env/http-faults.ts";
import { startRestartableMoto } from "../env/moto/start.ts";
import { startToxiproxy, type TcpFaults, type Toxiproxy } from "../env/toxiproxy.ts";

/** How a GET to `url` ends within `ms`: its status, or what failed. */
async function outcome(url: string, ms = 1500, init: RequestInit = {}): Promise<string> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
    await res.arrayBuffer();
    return String(res.status);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === "TimeoutError") return "hang";
    return e.cause?.code ?? e.name;
  }
}

const sqsAt = (endpoint: string) =>
  new SQSClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    useQueueUrlAsEndpoint: false,
    maxAttempts: 1,
  });

describe("TCP faults (Toxiproxy) in front of moto", () => {
  let toxiproxy: Toxiproxy;
  let tcp: TcpFaults;
  before(async () => {
    toxiproxy = await startToxiproxy();
    tcp = await toxiproxy.proxy("moto-layer", Number(new URL(ground().motoUrl).port));
  });
  after(async () => toxiproxy?.stop());

  test("refuse, reset, hang, delay, heal", async () => {
    const url = `${tcp.url("http")}/moto-api/lifecycle-actions`;
    assert.equal(await outcome(url), "200");
    await tcp.refuse();
    assert.equal(await outcome(url), "ECONNREFUSED");
    await tcp.reset();
    assert.match(await outcome(url), /ECONNRESET|UND_ERR_SOCKET/);
    await tcp.hang();
    assert.equal(await outcome(url), "hang");
    await tcp.delay(700);
    const started = Date.now();
    assert.equal(await outcome(url, 5000), "200");
    assert.ok(Date.now() - started >= 700, "delayed");
    await tcp.heal();
    assert.equal(await outcome(url), "200");
  });
});

describe("HTTP faults", () => {
  let proxy: HttpFaultProxy;
  before(async () => {
    proxy = await startHttpFaultProxy(ground().motoUrl);
  });
  after(async () => proxy?.close());

  test("per AWS operation: a 500 for one, a partial batch for another, the rest passes", async () => {
    const sqs = sqsAt(proxy.url);
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `fault-layer-${process.pid}` }),
    );
    for (let i = 0; i < 4; i++)
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }));
    const heal = proxy.add({
      match: { operation: "ReceiveMessage" },
      fault: awsJsonError("InternalError", 500),
      times: 1,
    });
    await assert.rejects(
      sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 })),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) =>
        err.name === "InternalError" && err.$metadata?.httpStatusCode === 500,
    );
    heal();
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    const entries = (got.Messages ?? []).map((m, i) => ({
      Id: String(i),
      ReceiptHandle: m.ReceiptHandle as string,
    }));
    assert.ok(entries.length >= 2, `${entries.length} received`);
    proxy.add({ match: { operation: "DeleteMessageBatch" }, fault: { kind: "partial-batch" } });
    const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: entries }));
    assert.deepEqual(
      (out.Failed ?? []).map((f) => f.Id),
      entries.filter((_, i) => i % 2 === 1).map((e) => e.Id),
    );
    assert.equal(out.Successful?.length, Math.ceil(entries.length / 2));
    assert.equal(proxy.faulted("ReceiveMessage"), 1);
    proxy.clear();
    sqs.destroy();
  });

  test("hang, then clear: the hung request is dropped", async () => {
    proxy.add({ match: { path: /^\/moto-api\// }, fault: { kind: "hang" } });
    const url = `${proxy.url}/moto-api/lifecycle-actions`;
    assert.equal(await outcome(url, 800), "hang");
    proxy.clear();
    assert.equal(await outcome(url), "200");
  });

  test("in front of kube-apiserver, TLS terminated with the ground's certificates", async () => {
    const pki = join(ground().runDir, "pki");
    const read = (f: string) => readFileSync(join(pki, f), "utf8");
    const api = await startHttpFaultProxy(ground().apiserverUrl, {
      tls: {
        cert: read("apiserver.crt"),
        key: read("apiserver.key"),
        ca: read("ca.crt"),
        clientCert: read("admin.crt"),
        clientKey: read("admin.key"),
      },
    });
    try {
      const get = async () => {
        const { request } = await import("node:https");
        return new Promise<number>((resolve, reject) => {
          const req = request(`${api.url}/api/v1/nodes?limit=1`, { ca: read("ca.crt") }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          req.on("error", reject);
          req.end();
        });
      };
      assert.equal(await get(), 200, "the admin certificate is presented upstream");
      api.add({ match: { method: "GET" }, fault: kubeStatus(429, "TooManyRequests", 1) });
      assert.equal(await get(), 429);
    } finally {
      await api.close();
    }
  });
});

describe("process faults", () => {
  test("metadata emulator: frozen hangs, killed refuses, restarted answers on the same port", async () => {
    const aemm = await startRestartableMetadataMock();
    const url = `${aemm.url}/latest/meta-data/`;
    try {
      assert.equal(await outcome(url), "200");
      await aemm.freeze();
      assert.equal(await outcome(url, 800), "hang");
      aemm.thaw();
      assert.equal(await outcome(url, 5000), "200");
      await aemm.kill();
      assert.equal(await outcome(url), "ECONNREFUSED");
      await aemm.start();
      assert.equal(await outcome(url), "200");
    } finally {
      aemm.thaw();
      await aemm.stop();
    }
  });

  test("moto: killed and restarted on the same port (its state starts empty)", async () => {
    const moto = await startRestartableMoto();
    try {
      const sqs = sqsAt(moto.url);
      await sqs.send(new CreateQueueCommand({ QueueName: "before-restart" }));
      await moto.restart();
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "after-restart" }));
      assert.match(QueueUrl ?? "", /after-restart/);
      sqs.destroy();
    } finally {
      await moto.stop();
    }
  });
});
