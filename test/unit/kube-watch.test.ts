// The watch stream's line splitter and event parser: chunks cut lines and
// UTF-8 characters anywhere, and a bad line is reported, never thrown.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KubeApiError } from "../../src/kube/api-error.ts";
import {
  createLineSplitter,
  isExpired,
  parseWatchLine,
  watchErrorOf,
} from "../../src/kube/watch.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("line splitter", () => {
  test("lines cut across chunks come out whole, empty lines and CRs dropped", () => {
    const s = createLineSplitter();
    assert.deepEqual(s.push(bytes('{"a":1}\n{"b"')), ['{"a":1}']);
    assert.equal(s.pending, 4);
    assert.deepEqual(s.push(bytes(":2}\r\n\n")), ['{"b":2}']);
    assert.deepEqual(s.push(bytes('{"c":3}\n{"d":4}\n')), ['{"c":3}', '{"d":4}']);
    assert.deepEqual(s.flush(), []);
  });

  test("a multi-byte character split between chunks survives", () => {
    const s = createLineSplitter();
    const all = bytes('{"name":"nœud-é"}\n');
    const cut = all.indexOf(0xc5) + 1; // inside the two bytes of "œ"
    assert.deepEqual(s.push(all.slice(0, cut)), []);
    assert.deepEqual(s.push(all.slice(cut)), ['{"name":"nœud-é"}']);
  });

  test("a last line without a newline comes out on flush", () => {
    const s = createLineSplitter();
    assert.deepEqual(s.push(bytes('{"a":1}')), []);
    assert.deepEqual(s.flush(), ['{"a":1}']);
  });
});

describe("watch events", () => {
  test("events parse with their type and object", () => {
    const line = JSON.stringify({
      type: "MODIFIED",
      object: { kind: "Node", metadata: { name: "n1", resourceVersion: "42" } },
    });
    const ev = parseWatchLine(line);
    assert.ok(ev.ok);
    assert.equal(ev.type, "MODIFIED");
    assert.deepEqual(ev.object.metadata, { name: "n1", resourceVersion: "42" });
    const bookmark = parseWatchLine(
      '{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"77"}}}',
    );
    assert.ok(bookmark.ok && bookmark.type === "BOOKMARK");
  });

  test("malformed lines are errors, not exceptions", () => {
    for (const [line, pattern] of [
      ["{not json", /not JSON/],
      ["42", /not an object/],
      ['{"type":"RENAMED","object":{}}', /unknown watch event type "RENAMED"/],
      ['{"type":"ADDED"}', /ADDED has no object/],
      ['{"type":"ADDED","object":[1]}', /has no object/],
    ] as const) {
      const ev = parseWatchLine(line);
      assert.equal(ev.ok, false, line);
      if (!ev.ok) assert.match(ev.error, pattern);
    }
  });

  test("an ERROR event's Status becomes an API error; 410 means list again", () => {
    const ev = parseWatchLine(
      JSON.stringify({
        type: "ERROR",
        object: {
          kind: "Status",
          status: "Failure",
          message: "too old resource version: 5 (900)",
          reason: "Expired",
          code: 410,
        },
      }),
    );
    assert.ok(ev.ok && ev.type === "ERROR");
    const err = watchErrorOf(ev.object);
    assert.ok(err instanceof KubeApiError);
    assert.equal(err.status, 410);
    assert.match(err.message, /too old resource version/);
    assert.equal(isExpired(err), true);
    assert.equal(isExpired(watchErrorOf({ code: 500, message: "boom" })), false);
    assert.equal(watchErrorOf({ message: "no code" }).status, 500);
  });
});
