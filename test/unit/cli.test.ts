// The command line's pure parts: which command the first word names, "did you mean", the one
// option parser every command uses, and the usage text generated from the same spec.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AUDIT_LINE } from "../../src/commands/audit/args.ts";
import { commandList, dispatch, unknownCommandText } from "../../src/commands/dispatch.ts";
import { DOCTOR_LINE } from "../../src/commands/doctor/command.ts";
import { EXPLAIN_LINE } from "../../src/commands/explain/args.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { SELECT_LINE } from "../../src/commands/select/options.ts";
import { SETUP_LINE, TEARDOWN_LINE } from "../../src/commands/setup/args.ts";
import { distance } from "../../src/config/argv.ts";
import {
  type CommandLineSpec,
  closest,
  parseCommandLine,
  usageError,
  usageText,
} from "../../src/config/index.ts";

describe("the first word", () => {
  test("a command, help, version, or the handler's flags", () => {
    assert.deepEqual(dispatch(["doctor", "--json"]), {
      kind: "command",
      name: "doctor",
      args: ["--json"],
    });
    assert.deepEqual(dispatch(["help", "teardown"]), {
      kind: "command",
      name: "teardown",
      args: ["--help"],
    });
    assert.deepEqual(dispatch(["help"]), { kind: "overview" });
    assert.deepEqual(dispatch(["--help"]), { kind: "overview" });
    assert.deepEqual(dispatch(["--version"]), { kind: "version" });
    assert.deepEqual(dispatch([]), { kind: "daemon", args: [] });
    assert.deepEqual(dispatch(["--dry-run", "--mode=queue"]), {
      kind: "daemon",
      args: ["--dry-run", "--mode=queue"],
    });
  });

  test("an unknown word is a mistyped command, never the handler", () => {
    assert.deepEqual(dispatch(["docter"]), {
      kind: "unknown",
      word: "docter",
      suggestion: "doctor",
    });
    assert.deepEqual(dispatch(["hlep"]), { kind: "unknown", word: "hlep", suggestion: "help" });
    assert.deepEqual(dispatch(["kubectl"]), { kind: "unknown", word: "kubectl" });
    assert.deepEqual(dispatch(["help", "selec"]), {
      kind: "unknown",
      word: "selec",
      suggestion: "select",
    });
    const text = unknownCommandText({ word: "docter", suggestion: "doctor" });
    assert.match(text, /^nthd: unknown command 'docter'\. Did you mean 'doctor'\?/);
    for (const name of Object.keys(COMMANDS)) assert.match(text, new RegExp(`\\n  ${name} `));
  });

  test("the command list names every command with its summary", () => {
    const list = commandList();
    for (const [name, c] of Object.entries(COMMANDS)) assert.ok(list.includes(c.summary), name);
    assert.match(list, /\n {2}help /);
  });

  test("edit distance counts a swap as one edit", () => {
    assert.equal(distance("jsno", "json"), 1);
    assert.equal(distance("docter", "doctor"), 1);
    assert.equal(distance("", "abc"), 3);
    assert.equal(closest("setpu", ["setup", "select"]), "setup");
    assert.equal(closest("zzzz", ["setup", "select"]), undefined);
  });
});

const SPEC: CommandLineSpec = {
  name: "nthd demo",
  synopsis: ["nthd demo [options] FILE"],
  description: "A demo.",
  options: {
    source: { type: "string", value: "S", help: "where from", aliases: ["origin"] },
    json: { type: "boolean", help: "json" },
    tag: { type: "string", multiple: true, value: "T", help: "repeatable" },
  },
  allowPositionals: true,
  exitCodes: { 0: "ok", 1: "failed", 2: "usage" },
};

describe("one option parser", () => {
  test("--x v, --x=v, bare and negated booleans, --x=false, repeats, --", () => {
    const r = parseCommandLine(SPEC, [
      "--source",
      "a",
      "--json=false",
      "--tag=x",
      "--tag",
      "y",
      "f1",
      "--",
      "--not-an-option",
    ]);
    assert.ok(r.ok);
    assert.deepEqual(r.values, { source: "a", json: false, tag: ["x", "y"] });
    assert.deepEqual(r.positionals, ["f1", "--not-an-option"]);
    const n = parseCommandLine(SPEC, ["--no-json", "-h"]);
    assert.ok(n.ok && n.values.json === false && n.help);
  });

  test("a deprecated spelling is reported and never overrides the current one", () => {
    const r = parseCommandLine(SPEC, ["--source", "new", "--origin", "old"]);
    assert.ok(r.ok);
    assert.equal(r.values.source, "new");
    assert.deepEqual(r.aliasesUsed, ["--origin"]);
    const alone = parseCommandLine(SPEC, ["--origin", "old"]);
    assert.ok(alone.ok && alone.values.source === "old");
  });

  test("errors in one style, with a suggestion for a typo", () => {
    const msg = (argv: string[]) => {
      const r = parseCommandLine(SPEC, argv);
      assert.ok(!r.ok, argv.join(" "));
      return r.message;
    };
    assert.equal(msg(["--jsno"]), "unknown option '--jsno' (did you mean --json?)");
    assert.equal(msg(["--zzz"]), "unknown option '--zzz'");
    assert.equal(msg(["--source"]), "option --source needs a value");
    assert.equal(msg(["--json=perhaps"]), "--json=perhaps: expected true or false");
    const noPositionals = { ...SPEC, allowPositionals: false };
    assert.equal(
      (parseCommandLine(noPositionals, ["f"]) as { message: string }).message,
      "unexpected argument 'f'",
    );
    assert.equal(
      usageError(SPEC, "unknown option '--zzz'"),
      "nthd demo: unknown option '--zzz'\nUsage: nthd demo [options] FILE\nTry 'nthd help demo' for more.\n",
    );
  });

  test("unknown options pass through when asked, with their values", () => {
    const r = parseCommandLine({ ...SPEC, passUnknown: true, allowPositionals: false }, [
      "--queue-url",
      "https://q",
      "--json",
      "--workers=3",
    ]);
    assert.ok(r.ok);
    assert.deepEqual(r.rest, ["--queue-url", "https://q", "--workers=3"]);
    assert.equal(r.values.json, true);
  });
});

describe("usage text", () => {
  const LINES = [EXPLAIN_LINE, SELECT_LINE, SETUP_LINE, TEARDOWN_LINE, DOCTOR_LINE, AUDIT_LINE];

  test("every command's usage lists each option it parses, --help and its exit codes", () => {
    for (const spec of LINES) {
      const text = usageText(spec);
      assert.ok(text.startsWith(`Usage: ${spec.synopsis[0]}\n`), spec.name);
      for (const name of [...Object.keys(spec.options), "help"]) {
        assert.match(text, new RegExp(`--${name}\\b`), `${spec.name}: --${name}`);
      }
      assert.match(text, /\nExit status:\n {2}0 {2}.+\n {2}1 {2}.+\n {2}2 {2}.+\n$/, spec.name);
    }
  });

  test("teardown has its own usage and options, not setup's", () => {
    assert.match(usageText(TEARDOWN_LINE), /^Usage: nthd teardown /);
    assert.equal("asg" in TEARDOWN_LINE.options, false);
    const td = parseCommandLine(TEARDOWN_LINE, ["--cluster-name", "c", "--dlq"]);
    assert.ok(!td.ok && /unknown option '--dlq'/.test(td.message));
  });

  test("deprecated spellings are named in the usage", () => {
    assert.match(usageText(SELECT_LINE), /--instance-type-base, deprecated/);
  });
});
