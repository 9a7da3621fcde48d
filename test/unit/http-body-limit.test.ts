/**
 * Reading bodies with a limit: stop at the limit, discard the rest unread,
 * say what was too large. The bodies here are in-memory chunk streams.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isNthdError } from "../../src/errors.ts";
import { formatBytes, readBodyText, readCapped } from "../../src/http/body.ts";

/** A body of `chunks`; counts how many were pulled and whether it was destroyed. */
function body(chunks: string[]) {
  const state = { pulled: 0, destroyed: false };
  const stream = {
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) {
        state.pulled++;
        yield Buffer.from(c);
      }
    },
    destroy() {
      state.destroyed = true;
    },
  };
  return { stream, state };
}

const limit = { maxBytes: 10, what: "GET /x", source: "imds" } as const;

describe("readCapped / readBodyText", () => {
  it("reads a body within the limit whole", async () => {
    const b = body(["hello", " ", "w\u00f6rld"]);
    assert.equal(await readBodyText(b.stream, { ...limit, maxBytes: 12 }), "hello w\u00f6rld");
    assert.equal(b.state.destroyed, false);
  });

  it("stops at the chunk that crosses the limit and destroys the rest", async () => {
    const b = body(["12345", "67890", "X", "never read"]);
    const r = await readCapped(b.stream, limit);
    assert.equal(r.overLimit, true);
    assert.equal(r.bytes.toString(), "1234567890");
    assert.equal(b.state.pulled, 3);
    assert.equal(b.state.destroyed, true);
  });

  it("a body declared larger than the limit is not read at all", async () => {
    const b = body(["x"]);
    const r = await readCapped(b.stream, { ...limit, declaredLength: "11" });
    assert.equal(r.overLimit, true);
    assert.equal(b.state.pulled, 0);
    assert.equal(b.state.destroyed, true);
  });

  it("throws BODY_TOO_LARGE naming what was read and the limit", async () => {
    const err = await readBodyText(body(["x".repeat(2048)]).stream, {
      ...limit,
      maxBytes: 1024,
    }).catch((e: unknown) => e);
    assert.ok(isNthdError(err, "BODY_TOO_LARGE"), String(err));
    assert.equal(err.message, "GET /x: body is over 1 KiB, the limit");
    assert.equal(err.context.limitBytes, 1024);
  });

  it("writes limits in the units they are set in", () => {
    assert.equal(formatBytes(64 * 1024 * 1024), "64 MiB");
    assert.equal(formatBytes(64 * 1024), "64 KiB");
    assert.equal(formatBytes(1000), "1000 bytes");
  });
});
