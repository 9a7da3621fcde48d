// IMDS mode's V8 flags: one list, in the chart's file and in the program, and the re-exec that
// applies them when a manifest runs the image's plain entrypoint.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { imdsNodeFlags } from "../../bench/lib/handlers.ts";
import { FLAGS_APPLIED_ENV, IMDS_NODE_FLAGS, reexecWithFlags } from "../../src/modes/node-flags.ts";

describe("IMDS mode's node flags", () => {
  test("the program's list is the chart's file", () => {
    // The chart adds the heap limit from the memory limit; the file's list is the rest.
    const fromFile = imdsNodeFlags().filter((f) => !f.startsWith("--max-old-space-size"));
    assert.deepEqual([...IMDS_NODE_FLAGS], fromFile);
  });

  test("started without them (kOps' command): re-executed with them, arguments kept", () => {
    const plan = reexecWithFlags({
      execPath: "/nodejs/bin/node",
      execArgv: [],
      argv: ["/nodejs/bin/node", "/app/nthd.mjs", "--dry-run"],
      env: { NODE_NAME: "n1" },
    });
    assert.deepEqual(plan?.args, [
      "/nodejs/bin/node",
      ...IMDS_NODE_FLAGS,
      "/app/nthd.mjs",
      "--dry-run",
    ]);
    assert.equal(plan?.env.NODE_NAME, "n1");
    assert.equal(plan?.env[FLAGS_APPLIED_ENV], "1");
  });

  test("started with them (the chart), or re-executed once already: nothing to do", () => {
    const base = { execPath: "node", argv: ["node", "main"], env: {} };
    assert.equal(reexecWithFlags({ ...base, execArgv: [...IMDS_NODE_FLAGS] }), undefined);
    assert.equal(
      reexecWithFlags({ ...base, execArgv: [], env: { [FLAGS_APPLIED_ENV]: "1" } }),
      undefined,
    );
  });

  test("only the missing flags are added; node's other options stay", () => {
    const plan = reexecWithFlags({
      execPath: "node",
      execArgv: ["--expose-gc", "--inspect=0"],
      argv: ["node", "main"],
      env: {},
    });
    assert.deepEqual(plan?.args.slice(0, 3), ["node", "--expose-gc", "--inspect=0"]);
    assert.equal(plan?.args.filter((a) => a === "--expose-gc").length, 1);
  });
});
