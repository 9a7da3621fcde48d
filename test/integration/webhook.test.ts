import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { isNthdError } from "../../src/errors.ts";
import { loadMetrics } from "../../src/observe/metrics.ts";
import { Webhook, webhookFromConfig } from "../../src/observe/webhook.ts";
import { compileTemplate } from "../../src/observe/webhook-template.ts";
import { until } from "../support/eventually.ts";

const { registry } = await loadMetrics();

const HOST = "127.0.0.1";
type Received = { headers: IncomingMessage["headers"]; body: string };
/** How the receiver answers the n-th request: a status code, or "hang" (never answer). */
type Script = (n: number) => number | "hang";

/** A local HTTP endpoint standing in for the user's webhook receiver. */
class Receiver {
  readonly received: Received[] = [];
  script: Script = () => 200;
  readonly #held: ServerResponse[] = [];
  readonly #server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      this.received.push({ headers: req.headers, body });
      const answer = this.script(this.received.length);
      if (answer === "hang") this.#held.push(res);
      else res.writeHead(answer).end(answer === 200 ? "ok" : "nope");
    });
  });
  url = "";
  async start() {
    await new Promise<void>((r) => this.#server.listen(0, HOST, r));
    this.url = `http://${HOST}:${(this.#server.address() as { port: number }).port}/hook`;
  }
  reset(script: Script) {
    this.received.length = 0;
    this.script = script;
  }
  async stop() {
    for (const res of this.#held) res.destroy();
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }
}

async function counter(name: string, result: string): Promise<number> {
  const json = (await registry.getSingleMetric(name)?.get()) as {
    values: { labels: { result?: string }; value: number }[];
  };
  return json.values.find((v) => v.labels.result === result)?.value ?? 0;
}

const template = compileTemplate(
  '{"text":"{{ .Kind }} on {{ .NodeName }}: {{ .Outcome }}","pods":{{ .Pods }}}',
);
const data = {
  EventID: "e-1",
  Kind: "SPOT_ITN",
  NodeName: 'node "a"',
  Outcome: "completed",
  Pods: ["ns/p1"],
};

describe("webhook delivery to a local receiver", () => {
  const receiver = new Receiver();
  const hooks: Webhook[] = [];
  const hook = (extra: Partial<ConstructorParameters<typeof Webhook>[0]> = {}) => {
    const w = new Webhook({
      url: receiver.url,
      headers: { "Content-type": "application/json", "X-Token": "t0k" },
      template,
      retryDelayMs: 10,
      ...extra,
    });
    hooks.push(w);
    return w;
  };
  before(() => receiver.start());
  afterEach(async () => {
    await Promise.all(hooks.splice(0).map((w) => w.close(100)));
  });
  after(() => receiver.stop());

  it("POSTs the rendered template with the configured headers", async () => {
    receiver.reset(() => 200);
    assert.equal(await hook().send(data), true);
    assert.equal(receiver.received.length, 1);
    const got = receiver.received[0] as Received;
    assert.equal(got.headers["x-token"], "t0k");
    assert.equal(got.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(got.body), {
      text: 'SPOT_ITN on node "a": completed',
      pods: ["ns/p1"],
    });
  });

  it("retries a 500 answer with backoff and then delivers", async () => {
    receiver.reset((n) => (n < 3 ? 500 : 200));
    const errorsBefore = await counter("nthd_webhook_attempts_total", "http-error");
    assert.equal(await hook().send(data), true);
    assert.equal(receiver.received.length, 3);
    assert.equal((await counter("nthd_webhook_attempts_total", "http-error")) - errorsBefore, 2);
  });

  it("does not retry a 400 answer", async () => {
    receiver.reset(() => 400);
    const failedBefore = await counter("nthd_webhooks_total", "failed");
    assert.equal(await hook().send(data), false);
    assert.equal(receiver.received.length, 1);
    assert.equal((await counter("nthd_webhooks_total", "failed")) - failedBefore, 1);
  });

  it("times out a receiver that never answers, retries a bounded number of times, then gives up", async () => {
    receiver.reset(() => "hang");
    const timeoutsBefore = await counter("nthd_webhook_attempts_total", "timeout");
    assert.equal(await hook({ timeoutMs: 200, attempts: 2 }).send(data), false);
    assert.equal(receiver.received.length, 2);
    assert.equal((await counter("nthd_webhook_attempts_total", "timeout")) - timeoutsBefore, 2);
  });

  it("notify returns at once while the receiver hangs; close abandons the request", async () => {
    receiver.reset(() => "hang");
    const w = hook({ timeoutMs: 60_000 });
    const failedBefore = await counter("nthd_webhooks_total", "failed");
    assert.equal(w.notify(data), undefined); // nothing to await: a drain never waits for it
    await until("the receiver reached", () => receiver.received.length > 0, 15_000, 10);
    await w.close(50);
    assert.equal((await counter("nthd_webhooks_total", "failed")) - failedBefore, 1);
  });

  it("goes through WEBHOOK_PROXY when set", async () => {
    receiver.reset(() => 200);
    const proxy = await startProxy();
    try {
      assert.equal(await hook({ proxy: proxy.url }).send(data), true);
      assert.equal(receiver.received.length, 1);
      assert.ok(proxy.used() > 0, "the request went through the proxy");
    } finally {
      await proxy.stop();
    }
  });
});

/** A minimal forward proxy on loopback (CONNECT tunnels and absolute-form requests), standing in for the user's proxy. */
async function startProxy() {
  let used = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    used++;
    const upstream = httpRequest(
      req.url ?? "",
      { method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    used++;
    const [host, port] = (req.url ?? "").split(":");
    if (host !== HOST) return client.destroy(); // loopback only
    const up = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    for (const s of [client, up]) {
      sockets.add(s);
      s.on("error", () => s.destroy());
      s.on("close", () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return {
    url: `http://${HOST}:${(server.address() as { port: number }).port}`,
    used: () => used,
    stop: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("webhookFromConfig", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "nthd-webhook-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const settings = {
    webhookUrl: "http://127.0.0.1:9/hook",
    webhookProxy: "",
    webhookHeaders: { "Content-type": "application/json" },
    webhookTemplate: '{"text":"{{ .EventID }}"}',
    webhookTemplateFile: "",
  };

  it("is off without a URL", async () => {
    assert.equal(await webhookFromConfig({ ...settings, webhookUrl: "" }), undefined);
  });

  it("reads the template file, which wins over the inline template", async () => {
    const file = join(dir, "ok.tmpl");
    await writeFile(file, "Event {{ .EventID }}");
    const w = await webhookFromConfig({ ...settings, webhookTemplateFile: file });
    assert.ok(w);
    await w.close();
  });

  it("stops start-up naming the file and the unknown field", async () => {
    const file = join(dir, "bad.tmpl");
    await writeFile(file, '{"text":"{{ .NodeNme }}"}');
    await assert.rejects(
      webhookFromConfig({ ...settings, webhookTemplateFile: file }),
      (err: unknown) =>
        isNthdError(err, "CONFIG_INVALID") &&
        err.message.includes(file) &&
        err.message.includes(".NodeNme"),
    );
  });

  it("stops start-up when the template file is missing or a header is invalid", async () => {
    await assert.rejects(
      webhookFromConfig({ ...settings, webhookTemplateFile: join(dir, "missing.tmpl") }),
      (err: unknown) =>
        isNthdError(err, "CONFIG_INVALID") && err.message.includes("WEBHOOK_TEMPLATE_FILE"),
    );
    await assert.rejects(
      webhookFromConfig({ ...settings, webhookHeaders: { "Bad Header": "x" } }),
      (err: unknown) =>
        isNthdError(err, "CONFIG_INVALID") && err.message.includes("WEBHOOK_HEADERS"),
    );
  });
});
