import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Notice } from "../../src/notice.ts";
import { createLogger, formatLine, noticeLogger } from "../../src/observe/log.ts";

function capture() {
  const lines: string[] = [];
  return { lines, dest: { write: (line: string) => void lines.push(line) } };
}

const notice: Notice = {
  id: "evt-9",
  kind: "asg-terminate",
  instanceId: "i-0abc",
  action: "drain",
  receivedAt: new Date(),
  source: "queue",
  detail: {},
};

describe("logging", () => {
  it("writes JSON with level words, ISO time and NTH's message key", () => {
    const { lines, dest } = capture();
    createLogger({ logLevel: "info", jsonLogging: true }, dest).info({ pods: 2 }, "draining");
    const record = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.equal(record.level, "info");
    assert.equal(record.message, "draining");
    assert.equal(record.pods, 2);
    assert.match(String(record.time), /^\d{4}-\d\d-\d\dT/);
  });

  it("honours the level", () => {
    const { lines, dest } = capture();
    const log = createLogger({ logLevel: "warn", jsonLogging: true }, dest);
    log.info("hidden");
    log.warn("shown");
    assert.equal(lines.length, 1);
  });

  it("notice loggers carry notice id, kind, instance and node on every line", () => {
    const { lines, dest } = capture();
    noticeLogger(
      createLogger({ logLevel: "info", jsonLogging: true }, dest),
      notice,
      "node-1",
    ).info("cordoned");
    const record = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.deepEqual(
      [record.noticeId, record.kind, record.instanceId, record.node],
      ["evt-9", "asg-terminate", "i-0abc", "node-1"],
    );
  });

  it("human-readable lines put level and message first, quote values with spaces", () => {
    const { lines, dest } = capture();
    noticeLogger(createLogger({ logLevel: "info", jsonLogging: false }, dest), notice).info(
      { why: "pdb blocked" },
      "retrying",
    );
    assert.match(
      lines[0] as string,
      /^\S+ INFO {2}retrying noticeId=evt-9 kind=asg-terminate instanceId=i-0abc why="pdb blocked"\n$/,
    );
  });

  it("formatLine passes through a line that is not JSON, and prints error stacks", () => {
    assert.equal(formatLine("not json"), "not json\n");
    const line = formatLine(
      JSON.stringify({
        time: "t",
        level: "error",
        message: "m",
        err: { message: "boom", stack: "Error: boom\n  at x" },
      }),
    );
    assert.equal(line, "t ERROR m err=boom\nError: boom\n  at x\n");
  });
});
