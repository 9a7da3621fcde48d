import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { regionOfZone } from "../../src/sources/imds/facts.ts";
import { HandoverLedger } from "../../src/sources/imds/handover.ts";
import { enabledMonitors } from "../../src/sources/imds/monitors.ts";
import {
  backoffMs,
  classifyStatus,
  readTokenResponse,
  TOKEN_TTL_HEADER,
  tokenRefreshAt,
} from "../../src/sources/imds/protocol.ts";
import { parseImdsEventTime, parseRfc3339 } from "../../src/sources/imds/times.ts";
import { readAwsEvent } from "../support/fixtures.ts";

/** Splits a raw `.http` fixture into status, lower-cased headers and body. */
function readExchange(file: string): {
  status: number;
  headers: Map<string, string>;
  body: string;
} {
  const raw = readAwsEvent(`imds/imdsv2/${file}`);
  const split = raw.indexOf("\n\n");
  const head = raw.slice(0, split).split("\n");
  const status = Number(head[0]?.split(" ")[1]);
  const headers = new Map(
    head.slice(1).map((line) => {
      const i = line.indexOf(":");
      return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()] as [string, string];
    }),
  );
  return { status, headers, body: raw.slice(split + 2) };
}

describe("IMDSv2 exchanges (fixtures)", () => {
  it("02: a token response gives the opaque token and the echoed TTL", () => {
    const x = readExchange("02-token-response.http");
    const verdict = readTokenResponse(x.status, x.headers.get(TOKEN_TTL_HEADER), x.body, 21600);
    assert.deepEqual(verdict, {
      kind: "token",
      value: "AQAEAExampleOpaqueTokenValue-holdout-placeholder==",
      ttlSeconds: 21600,
    });
  });

  it("04: a 400 to the token request is refused, not retried, body unread", () => {
    const x = readExchange("04-token-request-missing-ttl.response-400.http");
    assert.equal(readTokenResponse(x.status, undefined, x.body, 60).kind, "refused");
    assert.equal(classifyStatus(x.status), "fail");
  });

  it("05: a 401 on a GET means fetch a new token", () => {
    assert.equal(
      classifyStatus(readExchange("05-get-invalid-or-expired-token.response-401.http").status),
      "token-rejected",
    );
  });

  it("06: a 404 means nothing pending (the XHTML body is never parsed)", () => {
    assert.equal(
      classifyStatus(readExchange("06-no-spot-action.response-404.http").status),
      "absent",
    );
  });
});

describe("IMDSv2 rules", () => {
  it("retries only busy answers", () => {
    assert.deepEqual([200, 404, 401, 429, 500, 503, 400, 403, 302].map(classifyStatus), [
      "ok",
      "absent",
      "token-rejected",
      "retry",
      "retry",
      "retry",
      "fail",
      "fail",
      "fail",
    ]);
  });

  it("uses the shorter of requested and granted TTL and rejects non-tokens", () => {
    assert.deepEqual(readTokenResponse(200, "30", "tok", 21600), {
      kind: "token",
      value: "tok",
      ttlSeconds: 30,
    });
    assert.deepEqual(readTokenResponse(200, "junk", "tok", 60), {
      kind: "token",
      value: "tok",
      ttlSeconds: 60,
    });
    assert.equal(readTokenResponse(200, "60", "", 60).kind, "refused");
    assert.equal(readTokenResponse(200, "60", "<html>", 60).kind, "refused");
    assert.equal(readTokenResponse(503, undefined, "", 60).kind, "retry");
    assert.equal(readTokenResponse(403, undefined, "", 60).kind, "refused");
  });

  it("refreshes a token before it expires", () => {
    assert.equal(tokenRefreshAt(0, 21600), 21600_000 - 60_000);
    assert.equal(tokenRefreshAt(1000, 1), 1000 + 750);
  });

  it("backs off exponentially with jitter, capped", () => {
    assert.equal(backoffMs(2, 100, 1000, 0), 50);
    assert.equal(backoffMs(2, 100, 1000, 1), 100);
    assert.equal(backoffMs(3, 100, 1000, 1), 200);
    assert.equal(backoffMs(10, 100, 1000, 1), 1000);
  });
});

describe("IMDS time formats", () => {
  it("reads the scheduled-event format and RFC 3339", () => {
    assert.equal(
      parseImdsEventTime("21 Jan 2019 09:00:43 GMT")?.toISOString(),
      "2019-01-21T09:00:43.000Z",
    );
    assert.equal(
      parseImdsEventTime("2 Dec 2026 21:35:31 GMT")?.toISOString(),
      "2026-12-02T21:35:31.000Z",
    );
    assert.equal(
      parseImdsEventTime("2019-01-21T09:00:43Z")?.toISOString(),
      "2019-01-21T09:00:43.000Z",
    );
    assert.equal(
      parseRfc3339("2017-09-18T08:22:00+02:00")?.toISOString(),
      "2017-09-18T06:22:00.000Z",
    );
  });

  it("rejects placeholders and impossible dates instead of guessing", () => {
    for (const text of [
      "yyyy-mm-ddThh:mm:ssZ",
      "31 Feb 2019 09:00:00 GMT",
      "21 Foo 2019 09:00:43 GMT",
      "",
      5,
      null,
    ]) {
      assert.equal(parseImdsEventTime(text), undefined, String(text));
    }
    assert.equal(parseRfc3339("2019-13-01T00:00:00Z"), undefined);
    assert.equal(parseRfc3339("21 Jan 2019 09:00:43 GMT"), undefined);
  });
});

describe("hand-over ledger", () => {
  const item = (key: string) => ({ key, item: key });

  it("hands an event over once while it is served", () => {
    const ledger = new HandoverLedger();
    assert.deepEqual(
      ledger.select([item("a")]).map((f) => f.key),
      ["a"],
    );
    assert.deepEqual(ledger.select([item("a")]), []); // in flight
    ledger.settle("a", "done");
    assert.deepEqual(ledger.select([item("a")]), []);
  });

  it("hands it over again after the engine asked to retry", () => {
    const ledger = new HandoverLedger();
    ledger.select([item("a")]);
    ledger.settle("a", "retry");
    assert.deepEqual(
      ledger.select([item("a")]).map((f) => f.key),
      ["a"],
    );
  });

  it("forgets a done event once it is no longer served, keeps one in flight", () => {
    const ledger = new HandoverLedger();
    ledger.select([item("a"), item("b")]);
    ledger.settle("a", "done");
    ledger.select([]);
    assert.deepEqual(ledger.snapshot(), { b: "in-flight" });
    assert.deepEqual(
      ledger.select([item("a")]).map((f) => f.key),
      ["a"],
    );
  });

  it("treats two items with one key in the same poll as one event", () => {
    assert.equal(new HandoverLedger().select([item("a"), item("a")]).length, 1);
  });
});

describe("IMDS monitor table and facts", () => {
  const off = {
    enableSpotInterruptionDraining: false,
    enableScheduledEventDraining: false,
    enableAsgLifecycleDraining: false,
    enableRebalanceMonitoring: false,
    enableRebalanceDraining: false,
  };

  it("runs exactly the monitors the settings switch on", () => {
    assert.deepEqual(enabledMonitors(off), []);
    assert.deepEqual(
      enabledMonitors({
        ...off,
        enableSpotInterruptionDraining: true,
        enableScheduledEventDraining: true,
      }).map((m) => m.name),
      ["spot-itn", "scheduled-events"],
    );
    // Rebalance draining implies watching for rebalance recommendations.
    assert.deepEqual(
      enabledMonitors({ ...off, enableRebalanceDraining: true }).map((m) => m.name),
      ["rebalance"],
    );
  });

  it("derives a region from a zone only when the shape is clear", () => {
    assert.equal(regionOfZone("us-east-1a"), "us-east-1");
    assert.equal(regionOfZone("ap-southeast-2c"), "ap-southeast-2");
    assert.equal(regionOfZone("us-west-2-lax-1a"), undefined);
    assert.equal(regionOfZone(undefined), undefined);
  });
});
