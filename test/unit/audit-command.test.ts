import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseAuditArgs } from "../../src/commands/audit/args.ts";
import { createProgress } from "../../src/commands/audit/progress.ts";
import { buildReport } from "../../src/commands/audit/report.ts";
import { renderTable } from "../../src/commands/audit/table.ts";
import { loadConfig } from "../../src/config/index.ts";
import { auditNode, prepareAudit, worstTogether } from "../../src/drain/audit.ts";
import { createSnapshotBuilder, slimNode } from "../../src/drain/audit-snapshot.ts";
import { planSettingsOf } from "../../src/drain/context.ts";
import { node, pdb, pod } from "../support/audit-cluster.ts";

describe("nthd audit arguments", () => {
  test("defaults", () => {
    const r = parseAuditArgs([]);
    assert.ok(r.ok);
    assert.deepEqual(r.args, {
      selector: "",
      kind: "spot-interruption",
      noticeSeconds: undefined,
      together: "spot-zone",
      zone: undefined,
      json: false,
      progress: true,
      startSeconds: 2,
      cordonsPerSecond: 25,
      podStartupSeconds: 10,
      settings: [],
      help: false,
    });
  });

  test("own options and nthd settings as flags", () => {
    const r = parseAuditArgs([
      "-l",
      "karpenter.sh/capacity-type=spot",
      "--kind=asg-terminate",
      "--notice-seconds",
      "90",
      "--together=all",
      "--json",
      "--no-progress",
      "--delete-local-data=false",
      "--grace-period",
      "5",
    ]);
    assert.ok(r.ok, r.ok ? "" : r.message);
    assert.equal(r.args.selector, "karpenter.sh/capacity-type=spot");
    assert.equal(r.args.kind, "asg-terminate");
    assert.equal(r.args.noticeSeconds, 90);
    assert.equal(r.args.together, "all");
    assert.equal(r.args.json, true);
    assert.equal(r.args.progress, false);
    assert.deepEqual(r.args.settings, ["--delete-local-data=false", "--grace-period=5"]);
    const config = loadConfig(r.args.settings, {}, { modeRules: false }).config;
    assert.equal(config.deleteLocalData, false);
    assert.equal(config.podTerminationGracePeriodSeconds, 5);
  });

  test("bad input is refused with the reason", () => {
    for (const [argv, why] of [
      [["--kind", "spot"], /--kind spot is not one of/],
      [["--together", "region"], /--together region/],
      [["--notice-seconds", "0"], /a number from 1/],
      [["--notice-seconds", "abc"], /a number/],
      [["-l", "app in (a"], /--selector: unbalanced/],
      [["--frobnicate"], /^unknown option '--frobnicate'/],
      [["--jsno"], /did you mean --json\?/],
      [["node-1"], /^unexpected argument 'node-1'$/],
    ] as const) {
      const r = parseAuditArgs(argv);
      assert.equal(r.ok, false, argv.join(" "));
      assert.match(r.ok ? "" : r.message, why, argv.join(" "));
    }
  });
});

describe("progress line", () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, stream: { isTTY, columns: 40, write: (s: string) => out.push(s) } };
  };

  test("on a terminal: rewritten in place, throttled, cut to the width, erased at the end", () => {
    const { out, stream } = sink(true);
    let now = 0;
    const p = createProgress(stream, true, () => now);
    p.update("reading pods: 500");
    now = 50;
    p.update("reading pods: 1000");
    now = 200;
    p.update(`reading pods: 1500 ${"x".repeat(80)}`);
    p.done();
    assert.equal(out.length, 3);
    assert.equal(out[0], "\r\x1b[2Knthd audit: reading pods: 500");
    assert.ok((out[1] as string).length <= 39 + 5);
    assert.equal(out[2], "\r\x1b[2K");
  });

  test("nothing when not a terminal or turned off", () => {
    for (const [tty, on] of [
      [false, true],
      [true, false],
    ] as const) {
      const { out, stream } = sink(tty);
      const p = createProgress(stream, on);
      p.update("x");
      p.done();
      assert.deepEqual(out, []);
    }
  });
});

describe("audit report", () => {
  test("JSON fields and the table for a small cluster", () => {
    const b = createSnapshotBuilder([node("n1"), node("n2")].map(slimNode));
    for (const p of [
      pod("web-1", { app: "web", grace: 5, node: "n1" }),
      pod("frozen-1", { app: "frozen", node: "n2" }),
    ])
      b.addPod(p);
    b.addPdb(pdb("frozen", "frozen", { allowed: 0, maxUnavailable: 0 }));
    const snapshot = b.build();
    const config = loadConfig([], {}, { modeRules: false }).config;
    const prepared = prepareAudit(snapshot, {
      noticeSeconds: 120,
      settings: planSettingsOf(config),
      model: {
        startSeconds: 2,
        cordonsPerSecond: 25,
        maxConcurrentDrains: 100,
        qps: 50,
        burst: 100,
      },
      podStartupSeconds: 10,
      now: new Date(),
    });
    const report = buildReport({
      kind: "spot-interruption",
      noticeSeconds: 120,
      config,
      model: { startSeconds: 2, cordonsPerSecond: 25, podStartupSeconds: 10 },
      selector: "",
      snapshot,
      verdicts: snapshot.nodes.map((n) => auditNode(prepared, n)),
      together: worstTogether(prepared, "spot-zone"),
    });
    assert.deepEqual(report.summary, { nodes: 2, inTime: 1, atRisk: 1 });
    assert.deepEqual(
      report.nodes.map((n) => [n.name, n.verdict, n.drainedSeconds]),
      [
        ["n1", "in-time", 7],
        ["n2", "at-risk", null],
      ],
    );
    assert.equal(report.together?.zone, "us-east-1a");
    assert.deepEqual(
      report.together?.blockingPodDisruptionBudgets.map((p) => p.name),
      ["shop/frozen"],
    );
    const text = renderTable(report);
    assert.match(text, /^n1 +us-east-1a +spot +1 +0 +in time +7 s +-$/m);
    assert.match(text, /^n2 .*AT RISK +never +pdb-no-headroom$/m);
    assert.match(text, /fix: +set maxUnavailable to 1 or more/);
    assert.match(
      text,
      /lose every replica +Deployment shop\/frozen \(1\), Deployment shop\/web \(1\)/,
    );
    assert.match(text, /^1 of 2 nodes would not drain in time\.$/m);
  });
});
