// The IMDSv2 client against the real amazon-ec2-metadata-mock.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { isNthdError } from "../../src/errors.ts";
import { ImdsClient } from "../../src/sources/imds/client.ts";
import { readInstanceFacts } from "../../src/sources/imds/facts.ts";
import { freePort, type MetadataMock, startMetadataMock } from "../env/ground.ts";

function client(url: string, extra: Partial<ConstructorParameters<typeof ImdsClient>[0]> = {}) {
  return new ImdsClient({
    baseUrl: url,
    tries: 3,
    tokenTtlSeconds: 21600,
    allowV1Fallback: false,
    backoffBaseMs: 20,
    ...extra,
  });
}

describe("IMDS client against the metadata mock (IMDSv2 only)", () => {
  let mock: MetadataMock;
  before(async () => {
    mock = await startMetadataMock(["-I"]);
  });
  after(async () => {
    await mock?.stop();
  });

  it("fetches one token and reuses it until shortly before it expires", async () => {
    let now = 1_000_000;
    const c = client(mock.url, { tokenTtlSeconds: 60, clock: () => now });
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await c.get("/latest/meta-data/instance-id");
        assert.deepEqual(answer, { found: true, body: "i-1234567890abcdef0" });
      }
      assert.equal(c.stats.tokenFetches, 1);
      now += 50_000; // inside the refresh margin (a quarter of 60 s before expiry)
      await c.get("/latest/meta-data/instance-id");
      assert.equal(c.stats.tokenFetches, 2);
    } finally {
      await c.close();
    }
  });

  it("fetches a new token when IMDS rejects the old one (401)", async () => {
    // Clock frozen: the client believes its 1 s token is fresh; the mock knows it is not.
    const c = client(mock.url, { tokenTtlSeconds: 1, clock: () => 0 });
    try {
      await c.get("/latest/meta-data/instance-id");
      assert.equal(c.stats.tokenFetches, 1);
      // A real wait, and not a proof that something did not happen: the token
      // must really expire in the mock, which keeps its own time. The client's
      // injected clock (frozen above) cannot move the mock's.
      await sleep(1600);
      const answer = await c.get("/latest/meta-data/instance-id");
      assert.equal(answer.found, true);
      assert.equal(c.stats.tokenFetches, 2);
    } finally {
      await c.close();
    }
  });

  it("reads the instance id and the optional facts", async () => {
    const c = client(mock.url);
    try {
      assert.deepEqual(await readInstanceFacts(c), {
        instanceId: "i-1234567890abcdef0",
        instanceType: "m4.xlarge",
        availabilityZone: "us-east-1a",
        region: "us-east-1",
      });
    } finally {
      await c.close();
    }
  });

  it("answers 404 as 'nothing there', without reading the error page", async () => {
    const c = client(mock.url);
    try {
      assert.deepEqual(await c.get("/latest/meta-data/no-such-item"), {
        found: false,
        status: 404,
      });
    } finally {
      await c.close();
    }
  });
});

describe("IMDS client when IMDS does not answer", () => {
  it("explains the usual cause when nothing listens", async () => {
    const port = await freePort();
    const c = client(`http://127.0.0.1:${port}`, { tries: 2 });
    try {
      await assert.rejects(readInstanceFacts(c), (err: unknown) => {
        assert.ok(isNthdError(err, "IMDS_UNREACHABLE"), String(err));
        assert.match(err.message, /no instance identity from IMDS yet/);
        assert.match(err.message, /hop limit of 1/);
        assert.match(err.message, /hostNetwork: true/);
        assert.match(err.message, /hop limit to 2/);
        return true;
      });
      assert.equal(c.stats.retries, 1);
    } finally {
      await c.close();
    }
  });

  it("times out when the answer never comes (a dropped token response)", async () => {
    // A listener that accepts and stays silent: what a pod sees when the hop
    // limit drops the token response on its way back.
    const silent: Server = createServer(() => {});
    const sockets = new Set<import("node:net").Socket>();
    silent.on("connection", (s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const address = silent.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const c = client(`http://127.0.0.1:${port}`, { tries: 2, requestTimeoutMs: 300 });
    try {
      await assert.rejects(readInstanceFacts(c), (err: unknown) => {
        assert.ok(isNthdError(err, "IMDS_UNREACHABLE"), String(err));
        assert.match(err.message, /PUT \/latest\/api\/token/);
        return true;
      });
    } finally {
      await c.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe("IMDSv1 fallback against the metadata mock", () => {
  it("is off by default: an IMDSv2-only answer without token is an error, not data", async () => {
    const mock = await startMetadataMock(["-I"]);
    // A token TTL the mock refuses (400) means no token can be had.
    const c = client(mock.url, { tokenTtlSeconds: 0 });
    try {
      await assert.rejects(c.get("/latest/meta-data/instance-id"), (err: unknown) => {
        assert.ok(isNthdError(err, "IMDS_BAD_RESPONSE"), String(err));
        assert.match(err.message, /imds-allow-v1-fallback/);
        return true;
      });
    } finally {
      await c.close();
      await mock.stop();
    }
  });

  it("goes without a token when allowed and IMDS accepts v1", async () => {
    const mock = await startMetadataMock([]);
    const reasons: string[] = [];
    const c = client(mock.url, {
      tokenTtlSeconds: 0,
      allowV1Fallback: true,
      onV1Fallback: (r) => reasons.push(r),
    });
    try {
      assert.deepEqual(await c.get("/latest/meta-data/instance-id"), {
        found: true,
        body: "i-1234567890abcdef0",
      });
      await c.get("/latest/meta-data/instance-type");
      assert.equal(reasons.length, 1, "falls back once, then stays on v1 for a while");
      assert.match(reasons[0] ?? "", /answered 400/);
    } finally {
      await c.close();
      await mock.stop();
    }
  });
});
