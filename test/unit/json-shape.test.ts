import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { costlyJsonShape, MAX_JSON_DEPTH, MAX_JSON_MEMBERS } from "../../src/sources/json-shape.ts";

describe("costlyJsonShape", () => {
  it("passes what AWS sends", () => {
    assert.equal(costlyJsonShape('{"detail":{"a":[{"b":1}]},"x":"[[[[{{{{:::"}'), undefined);
  });
  // Bodies under 64 KiB are never costly: padding makes these large enough to be scanned.
  const pad = `"${"x".repeat(70_000)}"`;
  it("finds nesting deeper than the bound, not at it", () => {
    const at = `${"[".repeat(MAX_JSON_DEPTH - 1)}[${pad}]${"]".repeat(MAX_JSON_DEPTH - 1)}`;
    assert.equal(costlyJsonShape(at), undefined);
    assert.match(costlyJsonShape(`[${at}]`) ?? "", /deeper than 10000 levels/);
  });
  it("leaves small bodies alone, however deep: they parse in milliseconds", () => {
    assert.equal(costlyJsonShape("[".repeat(30_000)), undefined);
  });
  it("finds objects with too many members in all", () => {
    const members = (n: number) =>
      `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(",")}}`;
    assert.equal(costlyJsonShape(members(MAX_JSON_MEMBERS)), undefined);
    assert.match(
      costlyJsonShape(members(MAX_JSON_MEMBERS + 1)) ?? "",
      /more than 20000 object members/,
    );
  });
  it("does not count brackets, colons or escaped quotes inside strings", () => {
    const inString = JSON.stringify({ s: `\\"${"[:".repeat(MAX_JSON_MEMBERS + 40_000)}` });
    assert.equal(costlyJsonShape(inString), undefined);
  });
});
