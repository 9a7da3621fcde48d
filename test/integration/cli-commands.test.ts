/**
 * The nthd program as an operator meets it (`node src/main.ts ...` as a child process): a
 * typo never starts the handler, help is there for every command, usage errors look the same
 * everywhere and exit 2. Needs no test peers: none of these calls reach AWS or Kubernetes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMMANDS = ["explain", "select", "setup", "teardown", "doctor", "audit"];

function nthd(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  // No NODE_NAME and no kubeconfig: if the handler started, it would fail on those.
  const run = spawnSync(process.execPath, ["src/main.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("nthd as a command-line tool", () => {
  test("a mistyped command exits 2 with the list and the nearest name, without starting", () => {
    const r = nthd("docter");
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^nthd: unknown command 'docter'\. Did you mean 'doctor'\?/);
    for (const c of COMMANDS) assert.match(r.stderr, new RegExp(`\\n  ${c} `));
    assert.doesNotMatch(r.stderr, /NODE_NAME/);
  });

  test("help, --help and help COMMAND exit 0 on stdout", () => {
    for (const args of [["help"], ["--help"]]) {
      const r = nthd(...args);
      assert.equal(r.code, 0, args.join(" "));
      for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`\\n  ${c} `), `${args}: ${c}`);
      assert.match(r.stdout, /\nExit status:\n/);
      assert.match(r.stdout, /--pod-termination-grace-period .*\(deprecated: --grace-period\)/);
    }
    for (const c of COMMANDS) {
      const viaHelp = nthd("help", c);
      assert.equal(viaHelp.code, 0, c);
      assert.match(viaHelp.stdout, new RegExp(`^Usage: nthd ${c} `), c);
      assert.match(viaHelp.stdout, /\nExit status:\n {2}0 /, c);
    }
    // teardown used to print setup's usage.
    assert.equal(nthd("teardown", "--help").stdout, nthd("help", "teardown").stdout);
    assert.equal(nthd("help", "nope").code, 2);
  });

  test("usage errors look the same in every command and exit 2", () => {
    for (const c of COMMANDS) {
      const r = nthd(c, "--bogus-option");
      assert.equal(r.code, 2, c);
      assert.equal(
        r.stderr,
        `nthd ${c}: unknown option '--bogus-option'\nUsage: ${r.stderr.split("\n")[1]?.slice(7)}\nTry 'nthd help ${c}' for more.\n`,
        c,
      );
      assert.match(r.stderr.split("\n")[1] ?? "", new RegExp(`^Usage: nthd ${c} `));
    }
    const typo = nthd("explain", "--jsno", "f.json");
    assert.match(typo.stderr, /did you mean --json\?/);
  });

  test("the handler's own flags: unknown ones and bad values exit 2 before anything starts", () => {
    const unknown = nthd("--no-such-flag");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^nthd: unknown option '--no-such-flag'/);
    const bad = nthd("--dry-run=perhaps");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid setting --dry-run="perhaps": expected true or false/);
    const version = nthd("--version");
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^nthd \d+\.\d+\.\d+/);
  });
});
