/**
 * Runs the real CLI (`node src/main.ts explain`) as a child process on a
 * directory of inputs, garbage included, and checks the JSON lines. Needs no
 * test peers: explain never contacts AWS or Kubernetes.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type NthdRun, runNthd } from "../env/nthd-process.ts";
import { awsEventPath } from "../support/fixtures.ts";

const SQS = awsEventPath("sqs");

interface Line {
  file: string;
  disposition: string;
  kinds: string[];
  instanceIds: string[];
  action: string | null;
  deadline: string | null;
  reason: string;
}

function explain(args: string[], input?: string): Promise<NthdRun> {
  return runNthd(["explain", ...args], {
    env: { ...process.env, NODE_OPTIONS: "" },
    ...(input !== undefined ? { input } : {}),
  });
}

const lines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);

describe("nthd explain --json on a directory of inputs", () => {
  let dir = "";
  const files: Record<string, string> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "nthd-explain-"));
    const put = (name: string, content: string | Buffer) => {
      files[name] = join(dir, name);
      writeFileSync(files[name], content);
    };
    const copy = (name: string, from: string) => {
      files[name] = join(dir, name);
      copyFileSync(join(SQS, from), files[name]);
    };
    copy("spot.json", "eventbridge/spot-interruption-warning.terminate.derived.json");
    copy("fleet.json", "ignore/spot-fleet-instance-change.doc.json");
    copy(
      "sns-asg.json",
      "sns-wrapped/sns-wrapped.asg-lifecycle-notification.terminating.composed.json",
    );
    put("empty.json", "");
    put("binary.bin", Buffer.from([0x00, 0xff, 0x13, 0x37, 0xfe, 0x00, 0x80]));
    put("huge.json", `{"x":"${"a".repeat(1024 * 1024)}"}`);
    put("deep.json", `${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    put("truncated.json", '{"version":"0","id":"1","detail-type":"EC2 Spot');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints one JSON line per input, in order, and exits 0", async () => {
    const names = Object.keys(files);
    const { code, stdout, stderr } = await explain([
      "--json",
      ...names.map((n) => files[n] as string),
    ]);
    assert.equal(code, 0, stderr);
    const out = lines(stdout);
    assert.deepEqual(
      out.map((l) => l.file),
      names.map((n) => files[n]),
    );
    const by = Object.fromEntries(names.map((n, i) => [n, out[i] as Line]));

    assert.equal(by["spot.json"]?.disposition, "handle");
    assert.deepEqual(by["spot.json"]?.kinds, ["spot-interruption"]);
    assert.deepEqual(by["spot.json"]?.instanceIds, ["i-1234567890abcdef0"]);
    assert.equal(by["spot.json"]?.action, "drain");
    assert.equal(by["spot.json"]?.deadline, "2025-01-15T10:02:00.000Z");

    assert.equal(by["sns-asg.json"]?.disposition, "handle");
    assert.deepEqual(by["sns-asg.json"]?.kinds, ["asg-terminate"]);
    assert.match(by["sns-asg.json"]?.reason ?? "", /^SNS envelope unwrapped/);

    assert.equal(by["fleet.json"]?.disposition, "ignore-delete");
    assert.match(by["fleet.json"]?.reason ?? "", /aws\.ec2spotfleet/);

    for (const name of ["empty.json", "binary.bin", "huge.json", "deep.json", "truncated.json"]) {
      const line = by[name];
      assert.equal(line?.disposition, "keep", name);
      assert.deepEqual(line?.kinds, [], name);
      assert.equal(line?.action, null, name);
      assert.equal(line?.deadline, null, name);
      assert.ok((line?.reason.length ?? 0) > 10, name);
    }
    assert.match(by["empty.json"]?.reason ?? "", /empty/);
    assert.match(by["huge.json"]?.reason ?? "", /1048576 bytes/);
    assert.match(by["truncated.json"]?.reason ?? "", /not JSON at byte \d+ \(ends early\)/);
  });

  it("reads standard input for -", async () => {
    const { code, stdout } = await explain(["--json", "-"], '{"hello": "world"}');
    assert.equal(code, 0);
    const [line] = lines(stdout);
    assert.equal(line?.file, "-");
    assert.equal(line?.disposition, "keep");
  });

  it("an unreadable file is a usage error naming it; the others are still classified", async () => {
    const missing = join(dir, "does-not-exist.json");
    const { code, stdout, stderr } = await explain([
      "--json",
      files["spot.json"] as string,
      missing,
    ]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      new RegExp(`cannot read ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );
    assert.equal(lines(stdout).length, 1);
  });

  it("an unknown flag is a usage error", async () => {
    const { code, stderr } = await explain(["--frobnicate", files["spot.json"] as string]);
    assert.equal(code, 2);
    assert.match(stderr, /^nthd explain: unknown option '--frobnicate'$/m);
    assert.match(stderr, /^Usage: nthd explain /m);
  });

  it("text output names the disposition and reason", async () => {
    const { code, stdout } = await explain([files["fleet.json"] as string]);
    assert.equal(code, 0);
    assert.match(stdout, /: ignore-delete\n\s+reason:\s+EventBridge event aws\.ec2spotfleet/);
  });
});
