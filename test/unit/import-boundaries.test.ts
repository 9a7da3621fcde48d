/**
 * The architecture's boundaries (docs/architecture.md) as rules over the
 * import graph of src/, which esbuild reads in one pass (see
 * test/support/import-graph.ts). Type-only imports (`import type`) are erased
 * and do not count; `import { type X }` does count, because Node's type
 * stripping keeps it as an import that loads the module.
 *
 * Each rule is one row of RULES. The checker is also run against a small
 * hand-written graph: clean, it passes every rule; with one import added, the
 * rule that import breaks reports it. That is the proof each rule can fail.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type BoundaryRule,
  buildImportGraph,
  checkBoundaries,
  externalName,
  formatViolation,
  graphFromMetafile,
  type ImportGraph,
  type Metainputs,
  sourceFiles,
} from "../support/import-graph.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// --- where things are ------------------------------------------------------

const under =
  (...dirs: string[]) =>
  (file: string): boolean =>
    dirs.some((dir) => file.startsWith(`${dir}/`));
const oneOf =
  (...files: string[]) =>
  (file: string): boolean =>
    files.includes(file);
const isProject = (file: string): boolean => file.startsWith("src/");
const awsSdk = (target: string): boolean => target.startsWith("@aws-sdk/");

/** The operator commands: src/commands/ and the folders they lived in before it. */
const commandCode = under(
  "src/commands",
  "src/cli",
  "src/explain",
  "src/doctor",
  "src/setup",
  "src/select",
);
/**
 * The command table (only lazy `import()`s of each command) and the pure
 * dispatcher reading it (names, "did you mean"): the daemon's entry may load both.
 */
const commandTable = oneOf(
  "src/commands/index.ts",
  "src/commands/dispatch.ts",
  "src/cli/commands.ts",
);

/** The source folder a file belongs to ("imds", "queue"); none for shared files directly under src/sources/. */
const sourceOf = (file: string): string | undefined => /^src\/sources\/([^/]+)\//.exec(file)?.[1];

/** What a source may import besides its own folder and the shared files directly under src/sources/. */
const sourceMayImport = (target: string, from: string): boolean =>
  oneOf("src/notice.ts", "src/errors.ts", "src/config.ts")(target) ||
  under("src/config", "src/observe", "src/async", "src/http")(target) ||
  // Instance ids: a pure file without imports, shared by both sources, kube and the commands.
  target === "src/aws-ids.ts" ||
  // docs/architecture.md: the queue source is src/sources/queue/ and src/aws/.
  (sourceOf(from) === "queue" && under("src/aws")(target));

/** Built-ins and packages that do I/O. */
const IO_BUILTINS = new Set([
  "fs",
  "net",
  "http",
  "https",
  "http2",
  "child_process",
  "dns",
  "tls",
  "dgram",
]);
const IO_PACKAGES = new Set(["undici", "@kubernetes/client-node", "pino", "prom-client"]);
const doesIo = (target: string): boolean => {
  if (target.startsWith("node:")) return IO_BUILTINS.has(target.slice(5).split("/")[0] ?? "");
  if (awsSdk(target) || IO_PACKAGES.has(target)) return true;
  if (under("src/kube", "src/aws", "src/http")(target)) return true;
  // Label names and values only: constants and types, no prom-client.
  if (target === "src/observe/labels.ts") return false;
  return under("src/observe")(target);
};

/**
 * Parsers and the pure decision modules: those docs/architecture.md names
 * ("Parsing is pure", "Plan, then act") and the modules that call themselves pure.
 */
const PURE_MODULES = [
  "src/sources/parse-result.ts",
  "src/sources/times.ts",
  "src/sources/json.ts",
  "src/sources/json-shape.ts",
  "src/sources/queue/parse.ts",
  "src/sources/queue/disposition.ts",
  "src/sources/queue/health-gate.ts",
  "src/sources/imds/parse.ts",
  "src/sources/imds/protocol.ts",
  "src/sources/imds/times.ts",
  "src/drain/planner.ts",
  "src/drain/evict-conflict.ts",
  "src/drain/policy.ts",
  "src/drain/filters.ts",
  "src/drain/selector.ts",
  "src/drain/schedule.ts",
  "src/drain/record.ts",
  "src/drain/ownership.ts",
  "src/drain/nth-marks.ts",
  "src/drain/pool.ts",
  "src/drain/outcome.ts",
  "src/drain/report.ts",
  "src/drain/workload.ts",
  "src/drain/drain-estimate.ts",
  "src/drain/simulated-time.ts",
  "src/drain/audit.ts",
  "src/drain/audit-findings.ts",
  "src/drain/audit-snapshot.ts",
  "src/drain/audit-notice.ts",
  "src/aws-ids.ts",
];
const pureModule = (file: string): boolean =>
  PURE_MODULES.includes(file) ||
  under("src/sources/queue/parsers")(file) ||
  /^src\/drain\/(.*[-/])?(admission|resume-(table|plan))[^/]*\.ts$/.test(file);

/** The IMDS path: its mode and its source. */
const imdsPath = (file: string): boolean =>
  file === "src/modes/imds.ts" || under("src/sources/imds")(file);

// --- the rules -------------------------------------------------------------

const RULES: readonly BoundaryRule[] = [
  {
    name: "sources-not-drain",
    why: "a source turns events into notices; what happens to a node is the drain engine's, reached through the notice handler",
    from: under("src/sources"),
    forbidden: under("src/drain"),
    transitive: true,
  },
  {
    name: "sources-independent",
    why: "each source stands alone (IMDS mode must not load queue code, nor queue mode IMDS code); shared vocabulary lives directly under src/sources/",
    from: under("src/sources"),
    forbidden: (target, from) =>
      sourceOf(target) !== undefined && sourceOf(target) !== sourceOf(from),
    transitive: true,
  },
  {
    name: "sources-import-shared-layers",
    why: "a source may use src/notice.ts, src/errors.ts, src/config/, src/observe/, src/async/, src/http/ and shared source files; wiring to the cluster belongs to src/modes/",
    from: under("src/sources"),
    // Other sources and the drain engine are the two rules above.
    forbidden: (target, from) =>
      isProject(target) &&
      !under("src/sources", "src/drain")(target) &&
      !sourceMayImport(target, from),
    transitive: false,
  },
  {
    name: "drain-not-aws-or-sources",
    why: "the drain engine knows nodes and pods, nothing about SQS, IMDS or AWS; it is driven by notices",
    from: under("src/drain"),
    forbidden: (target) =>
      awsSdk(target) || under("src/aws", "src/sources", "src/modes")(target) || commandCode(target),
    transitive: true,
  },
  {
    name: "parsers-do-no-io",
    why: "parsers and planners are pure functions (never throw, never do I/O), so `nthd explain` and unit tests run them offline",
    from: pureModule,
    forbidden: doesIo,
    transitive: true,
  },
  {
    name: "imds-path-no-aws-sdk",
    why: "IMDS mode runs on every node: neither its start-up nor anything it loads later may bring in the AWS SDK",
    from: imdsPath,
    forbidden: (target) => awsSdk(target) || under("src/aws")(target),
    transitive: true,
  },
  {
    name: "daemon-not-commands",
    why: "the daemon never loads the operator commands; src/commands/index.ts holds only lazy import()s",
    from: oneOf("src/main.ts", "src/daemon.ts"),
    forbidden: (target) => commandCode(target) && !commandTable(target),
    transitive: true,
    follow: "static",
  },
  {
    name: "aws-sdk-owner",
    why: "src/aws/ builds the AWS clients and the queue source is the daemon's only AWS caller (SQS, the EC2 and Auto Scaling calls behind its messages); operator commands may use the SDK too",
    from: (file) =>
      isProject(file) &&
      !under("src/aws")(file) &&
      !under("src/sources/queue")(file) &&
      !commandCode(file),
    forbidden: awsSdk,
    transitive: false,
  },
  {
    name: "kube-client-owner",
    why: "src/kube/ owns Kubernetes access; elsewhere @kubernetes/client-node is for types only (doctor may use it)",
    from: (file) => isProject(file) && !under("src/kube")(file) && !commandCode(file),
    forbidden: (target) => target === "@kubernetes/client-node",
    transitive: false,
  },
  {
    name: "undici-owner",
    why: "src/http/ owns the connection pool (undici's Pool alone, not its package entry); webhooks also use undici's request() and its HTTPS proxy support",
    from: (file) =>
      isProject(file) && !under("src/http")(file) && file !== "src/observe/webhook.ts",
    forbidden: (target) => target === "undici",
    transitive: false,
  },
];

// --- the real graph --------------------------------------------------------

describe("import boundaries of src/", () => {
  let graph: ImportGraph;
  before(async () => {
    graph = await buildImportGraph(ROOT);
  });

  test("the graph covers every source file and every relative import resolves", () => {
    const missing = sourceFiles(ROOT, "src").filter((f) => !graph.modules.has(f));
    assert.deepEqual(missing, [], "files esbuild did not read");
    assert.deepEqual(graph.unresolved, [], "imports esbuild could not resolve");
  });

  test("every rule applies to some module, and every named pure module exists", () => {
    const modules = [...graph.modules.keys()];
    const idle = RULES.filter((r) => !modules.some((m) => r.from(m))).map((r) => r.name);
    assert.deepEqual(idle, [], "rules whose `from` matches nothing (a folder moved?)");
    assert.deepEqual(
      PURE_MODULES.filter((m) => !graph.modules.has(m)),
      [],
      "PURE_MODULES names files that are not there",
    );
  });

  for (const rule of RULES) {
    test(rule.name, () => {
      const found = checkBoundaries(graph, [rule]);
      assert.ok(
        found.length === 0,
        `${found.length} import(s) break "${rule.name}" (${rule.why}):\n${found.map(formatViolation).join("\n")}`,
      );
    });
  }
});

// --- the checker against a hand-written graph ------------------------------

/**
 * A metafile's `inputs` from lines "a -> b" (static import) and "a => b"
 * (dynamic import()); a target not under src/ is an external package.
 */
function inputs(lines: readonly string[]): Metainputs {
  const out: Metainputs = {};
  const entry = (file: string) => {
    out[file] ??= { bytes: 1, imports: [] };
    return out[file];
  };
  for (const line of lines) {
    const [from, arrow, to] = line.split(/\s+/);
    assert.ok(from && to && (arrow === "->" || arrow === "=>"), `bad line: ${line}`);
    const external = !to.startsWith("src/");
    if (!external) entry(to);
    entry(from).imports.push({
      path: to,
      kind: arrow === "->" ? "import-statement" : "dynamic-import",
      ...(external ? { external: true } : {}),
    });
  }
  return out;
}

/** The target layout in miniature, with each allowed kind of import at least once. */
const CLEAN = [
  "src/main.ts -> src/commands/index.ts",
  "src/main.ts -> src/config.ts",
  "src/main.ts => src/daemon.ts",
  "src/commands/index.ts => src/commands/doctor/command.ts",
  "src/commands/index.ts => src/commands/explain/command.ts",
  "src/commands/doctor/command.ts -> @aws-sdk/client-sqs",
  "src/commands/doctor/command.ts -> @kubernetes/client-node",
  "src/commands/explain/command.ts -> src/sources/queue/parse.ts",
  "src/commands/explain/command.ts -> node:fs/promises",
  "src/config.ts -> src/config/settings.ts",
  "src/daemon.ts -> src/drain/engine.ts",
  "src/daemon.ts -> src/kube/client.ts",
  "src/daemon.ts -> src/observe/log.ts",
  "src/daemon.ts -> src/observe/metrics.ts",
  "src/daemon.ts => src/modes/imds.ts",
  "src/daemon.ts => src/modes/queue.ts",
  "src/daemon.ts => src/observe/webhook.ts",
  "src/modes/imds.ts -> src/sources/imds/poller.ts",
  "src/modes/queue.ts -> src/aws/clients.ts",
  "src/modes/queue.ts -> src/kube/node-index.ts",
  "src/modes/queue.ts -> src/sources/queue/consumer.ts",
  "src/sources/imds/poller.ts -> src/sources/imds/client.ts",
  "src/sources/imds/poller.ts -> src/sources/imds/parse.ts",
  "src/sources/imds/poller.ts -> src/observe/metrics.ts",
  "src/sources/imds/poller.ts -> src/async/sleep.ts",
  "src/sources/imds/client.ts -> src/http/pool.ts",
  "src/sources/imds/client.ts -> node:timers/promises",
  "src/sources/imds/parse.ts -> src/sources/imds/times.ts",
  "src/sources/imds/parse.ts -> src/sources/parse-result.ts",
  "src/sources/imds/parse.ts -> src/aws-ids.ts",
  "src/sources/parse-result.ts -> src/notice.ts",
  "src/sources/queue/consumer.ts -> src/sources/queue/parse.ts",
  "src/sources/queue/consumer.ts -> src/aws/clients.ts",
  "src/sources/queue/consumer.ts -> src/errors.ts",
  "src/sources/queue/consumer.ts -> src/config/settings.ts",
  "src/sources/queue/parse.ts -> src/sources/queue/parsers/spot.ts",
  "src/sources/queue/parse.ts -> src/sources/parse-result.ts",
  "src/sources/queue/parsers/spot.ts -> src/observe/labels.ts",
  "src/sources/queue/parsers/spot.ts -> src/aws-ids.ts",
  "src/aws/clients.ts -> @aws-sdk/client-sqs",
  "src/aws/clients.ts -> src/observe/metrics.ts",
  "src/drain/engine.ts -> src/drain/admission.ts",
  "src/drain/engine.ts -> src/drain/planner.ts",
  "src/drain/engine.ts -> src/kube/client.ts",
  "src/drain/engine.ts -> src/observe/metrics.ts",
  "src/drain/engine.ts -> src/notice.ts",
  "src/drain/engine.ts -> pino",
  "src/drain/admission.ts -> src/drain/policy.ts",
  "src/drain/planner.ts -> src/drain/filters.ts",
  "src/drain/planner.ts -> zod",
  "src/kube/client.ts -> src/http/pool.ts",
  "src/kube/client.ts -> node:fs",
  "src/kube/client.ts -> @kubernetes/client-node",
  "src/http/pool.ts -> undici",
  "src/observe/webhook.ts -> undici",
  "src/observe/metrics.ts -> src/observe/labels.ts",
  "src/observe/metrics.ts => src/observe/metric-families.ts",
  "src/observe/metric-families.ts -> prom-client",
  "src/observe/log.ts -> pino",
];

interface Breach {
  readonly rule: string;
  readonly add: string;
  readonly from: string;
  readonly target: string;
  /** The chain reported, from the importing module to the forbidden one. */
  readonly chain: readonly string[];
  /** Modules the rule applies to that reach the target through `from`, listed with it. */
  readonly alsoFrom?: readonly string[];
}

/** One added import per case; each rule has at least one. */
const BREACHES: readonly Breach[] = [
  {
    rule: "sources-not-drain",
    add: "src/sources/queue/consumer.ts -> src/drain/engine.ts",
    from: "src/sources/queue/consumer.ts",
    target: "src/drain/engine.ts",
    chain: ["src/sources/queue/consumer.ts", "src/drain/engine.ts"],
  },
  {
    rule: "sources-not-drain",
    add: "src/observe/metrics.ts -> src/drain/policy.ts",
    from: "src/sources/imds/poller.ts",
    target: "src/drain/policy.ts",
    chain: ["src/sources/imds/poller.ts", "src/observe/metrics.ts", "src/drain/policy.ts"],
  },
  {
    rule: "sources-independent",
    add: "src/sources/imds/parse.ts -> src/sources/queue/parsers/spot.ts",
    from: "src/sources/imds/parse.ts",
    target: "src/sources/queue/parsers/spot.ts",
    chain: ["src/sources/imds/parse.ts", "src/sources/queue/parsers/spot.ts"],
    alsoFrom: ["src/sources/imds/poller.ts"],
  },
  {
    rule: "sources-independent",
    add: "src/sources/queue/consumer.ts => src/sources/imds/client.ts",
    from: "src/sources/queue/consumer.ts",
    target: "src/sources/imds/client.ts",
    chain: ["src/sources/queue/consumer.ts", "src/sources/imds/client.ts"],
  },
  {
    rule: "sources-independent",
    add: "src/async/sleep.ts => src/sources/queue/parse.ts",
    from: "src/sources/imds/poller.ts",
    target: "src/sources/queue/parse.ts",
    chain: ["src/sources/imds/poller.ts", "src/async/sleep.ts", "src/sources/queue/parse.ts"],
  },
  {
    rule: "sources-independent",
    add: "src/sources/parse-result.ts -> src/sources/queue/parsers/spot.ts",
    from: "src/sources/parse-result.ts",
    target: "src/sources/queue/parsers/spot.ts",
    chain: ["src/sources/parse-result.ts", "src/sources/queue/parsers/spot.ts"],
    alsoFrom: ["src/sources/imds/parse.ts", "src/sources/imds/poller.ts"],
  },
  {
    rule: "sources-import-shared-layers",
    add: "src/sources/queue/consumer.ts -> src/kube/node-index.ts",
    from: "src/sources/queue/consumer.ts",
    target: "src/kube/node-index.ts",
    chain: ["src/sources/queue/consumer.ts", "src/kube/node-index.ts"],
  },
  {
    rule: "sources-import-shared-layers",
    add: "src/sources/imds/client.ts -> src/aws/clients.ts",
    from: "src/sources/imds/client.ts",
    target: "src/aws/clients.ts",
    chain: ["src/sources/imds/client.ts", "src/aws/clients.ts"],
  },
  {
    rule: "drain-not-aws-or-sources",
    add: "src/drain/engine.ts -> src/aws/clients.ts",
    from: "src/drain/engine.ts",
    target: "src/aws/clients.ts",
    chain: ["src/drain/engine.ts", "src/aws/clients.ts"],
  },
  {
    rule: "drain-not-aws-or-sources",
    add: "src/kube/client.ts => src/sources/queue/parse.ts",
    from: "src/drain/engine.ts",
    target: "src/sources/queue/parse.ts",
    chain: ["src/drain/engine.ts", "src/kube/client.ts", "src/sources/queue/parse.ts"],
  },
  {
    rule: "drain-not-aws-or-sources",
    add: "src/drain/planner.ts -> src/setup/command.ts",
    from: "src/drain/planner.ts",
    target: "src/setup/command.ts",
    chain: ["src/drain/planner.ts", "src/setup/command.ts"],
    alsoFrom: ["src/drain/engine.ts"],
  },
  {
    rule: "parsers-do-no-io",
    add: "src/sources/queue/parsers/spot.ts -> src/observe/log.ts",
    from: "src/sources/queue/parsers/spot.ts",
    target: "src/observe/log.ts",
    chain: ["src/sources/queue/parsers/spot.ts", "src/observe/log.ts"],
    alsoFrom: ["src/sources/queue/parse.ts"],
  },
  {
    rule: "parsers-do-no-io",
    add: "src/notice.ts -> node:fs",
    from: "src/sources/parse-result.ts",
    target: "node:fs",
    chain: ["src/sources/parse-result.ts", "src/notice.ts", "node:fs"],
    alsoFrom: ["src/sources/imds/parse.ts", "src/sources/queue/parse.ts"],
  },
  {
    rule: "parsers-do-no-io",
    add: "src/drain/policy.ts => src/kube/client.ts",
    from: "src/drain/policy.ts",
    target: "src/kube/client.ts",
    chain: ["src/drain/policy.ts", "src/kube/client.ts"],
    alsoFrom: ["src/drain/admission.ts"],
  },
  {
    rule: "imds-path-no-aws-sdk",
    add: "src/observe/metrics.ts => src/aws/clients.ts",
    from: "src/sources/imds/poller.ts",
    target: "src/aws/clients.ts",
    chain: ["src/sources/imds/poller.ts", "src/observe/metrics.ts", "src/aws/clients.ts"],
    alsoFrom: ["src/modes/imds.ts"],
  },
  {
    rule: "imds-path-no-aws-sdk",
    add: "src/sources/imds/client.ts => @aws-sdk/client-ec2",
    from: "src/sources/imds/client.ts",
    target: "@aws-sdk/client-ec2",
    chain: ["src/sources/imds/client.ts", "@aws-sdk/client-ec2"],
    alsoFrom: ["src/modes/imds.ts", "src/sources/imds/poller.ts"],
  },
  {
    rule: "daemon-not-commands",
    add: "src/commands/index.ts -> src/commands/doctor/command.ts",
    from: "src/main.ts",
    target: "src/commands/doctor/command.ts",
    chain: ["src/main.ts", "src/commands/index.ts", "src/commands/doctor/command.ts"],
  },
  {
    rule: "daemon-not-commands",
    add: "src/daemon.ts -> src/explain/command.ts",
    from: "src/daemon.ts",
    target: "src/explain/command.ts",
    chain: ["src/daemon.ts", "src/explain/command.ts"],
  },
  {
    rule: "aws-sdk-owner",
    add: "src/kube/client.ts -> @aws-sdk/client-sqs",
    from: "src/kube/client.ts",
    target: "@aws-sdk/client-sqs",
    chain: ["src/kube/client.ts", "@aws-sdk/client-sqs"],
  },
  {
    rule: "kube-client-owner",
    add: "src/drain/planner.ts -> @kubernetes/client-node",
    from: "src/drain/planner.ts",
    target: "@kubernetes/client-node",
    chain: ["src/drain/planner.ts", "@kubernetes/client-node"],
  },
  {
    rule: "undici-owner",
    add: "src/sources/imds/client.ts -> undici",
    from: "src/sources/imds/client.ts",
    target: "undici",
    chain: ["src/sources/imds/client.ts", "undici"],
  },
];

describe("the boundary checker", () => {
  test("the clean layout passes every rule", () => {
    const found = checkBoundaries(graphFromMetafile(inputs(CLEAN)), RULES);
    assert.deepEqual(found.map(formatViolation), []);
  });

  test("every rule has a case that breaks it", () => {
    const untested = RULES.filter((r) => !BREACHES.some((b) => b.rule === r.name));
    assert.deepEqual(
      untested.map((r) => r.name),
      [],
    );
  });

  for (const b of BREACHES) {
    test(`${b.rule} fails on ${b.add}`, () => {
      const graph = graphFromMetafile(inputs([...CLEAN, b.add]));
      const rule = RULES.find((r) => r.name === b.rule);
      assert.ok(rule, `no rule ${b.rule}`);
      const found = checkBoundaries(graph, [rule]);
      const hit = found.find((v) => v.from === b.from && v.target === b.target);
      assert.ok(hit, `not reported; got:\n${found.map(formatViolation).join("\n")}`);
      assert.deepEqual(
        hit.chain.map((s) => s.file),
        b.chain,
      );
      assert.deepEqual(hit.alsoFrom, b.alsoFrom ?? []);
      const message = formatViolation(hit);
      for (const part of [b.rule, b.from, b.target]) assert.ok(message.includes(part), message);
    });
  }

  test("a static-only rule does not follow import(), a direct rule does not follow at all", () => {
    // src/bad.ts is reachable from src/a.ts only through an import() and a second step.
    const graph = graphFromMetafile(
      inputs(["src/a.ts -> src/c.ts", "src/a.ts => src/b.ts", "src/b.ts -> src/bad.ts"]),
    );
    const rule = (transitive: boolean, follow?: "static"): BoundaryRule => ({
      name: "r",
      why: "test",
      from: oneOf("src/a.ts"),
      forbidden: oneOf("src/bad.ts"),
      transitive,
      ...(follow ? { follow } : {}),
    });
    assert.deepEqual(checkBoundaries(graph, [rule(false)]), []);
    assert.deepEqual(checkBoundaries(graph, [rule(true, "static")]), []);
    const all = checkBoundaries(graph, [rule(true)]);
    assert.deepEqual(
      all.map((v) => v.chain),
      [
        [
          { file: "src/a.ts" },
          { file: "src/b.ts", kind: "dynamic" },
          { file: "src/bad.ts", kind: "static" },
        ],
      ],
    );
    assert.equal(
      all.map(formatViolation).join("\n"),
      "[r] src/a.ts -> src/bad.ts\n    via src/a.ts =import()=> src/b.ts -> src/bad.ts",
    );
  });

  test("metafile inputs: kinds, externals, duplicates and unresolved imports", () => {
    const graph = graphFromMetafile({
      "src/a.ts": {
        bytes: 1,
        imports: [
          { path: "src/b.ts", kind: "import-statement", original: "./b.ts" },
          { path: "src/b.ts", kind: "import-statement", original: "./b.ts" },
          { path: "src/c.ts", kind: "dynamic-import", original: "./c.ts" },
          { path: "src/d.cjs", kind: "require-call", original: "./d.cjs" },
          { path: "undici/lib/api/api-request.js", kind: "import-statement", external: true },
          { path: "fs", kind: "import-statement", external: true },
          { path: "unresolved:./gone.ts", kind: "import-statement", external: true },
        ],
      },
      "src/b.ts": { bytes: 1, imports: [] },
    });
    assert.deepEqual(graph.modules.get("src/a.ts"), [
      { to: "src/b.ts", kind: "static", external: false },
      { to: "src/c.ts", kind: "dynamic", external: false },
      { to: "src/d.cjs", kind: "static", external: false },
      { to: "undici", kind: "static", external: true },
      { to: "node:fs", kind: "static", external: true },
    ]);
    assert.deepEqual(graph.unresolved, ["src/a.ts: ./gone.ts"]);
  });

  test("package and built-in names", () => {
    assert.equal(externalName("fs"), "node:fs");
    assert.equal(externalName("node:fs/promises"), "node:fs/promises");
    assert.equal(externalName("fs/promises"), "node:fs/promises");
    assert.equal(externalName("@aws-sdk/client-sqs"), "@aws-sdk/client-sqs");
    assert.equal(externalName("@aws-sdk/client-sqs/dist-es/index.js"), "@aws-sdk/client-sqs");
    assert.equal(externalName("undici/lib/dispatcher/pool.js"), "undici");
    assert.equal(externalName("zod/mini"), "zod");
  });
});
