/**
 * `nthd audit`: which nodes would not drain within a notice, found before the
 * notice comes. Reads the cluster read-only with nthd's own client (a page at
 * a time), runs the drain planner and the drain estimate on every node, and
 * prints a table or, with --json, one document. Exit 0 when every audited
 * node drains in time, 1 when some do not, 2 on bad input or when the
 * cluster cannot be read.
 */
import { type Config, loadConfig, usageError, usageText } from "../../config/index.ts";
import { auditNode, type NodeVerdict, prepareAudit, worstTogether } from "../../drain/audit.ts";
import { auditNoticeSeconds } from "../../drain/audit-notice.ts";
import { readAuditSnapshot } from "../../drain/audit-read.ts";
import { planSettingsOf } from "../../drain/context.ts";
import { errorMessage } from "../../errors.ts";
import { createKubeClient } from "../../kube/client.ts";
import { AUDIT_LINE, type AuditArgs, parseAuditArgs } from "./args.ts";
import { createProgress } from "./progress.ts";
import { buildReport } from "./report.ts";
import { renderTable } from "./table.ts";

const EXIT_IN_TIME = 0;
const EXIT_AT_RISK = 1;
const EXIT_BAD_INPUT = 2;

export async function auditCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseAuditArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(usageError(AUDIT_LINE, parsed.message));
    return EXIT_BAD_INPUT;
  }
  const args = parsed.args;
  if (args.help) {
    process.stdout.write(usageText(AUDIT_LINE));
    return EXIT_IN_TIME;
  }
  let config: Config;
  try {
    config = loadConfig(args.settings, process.env, { modeRules: false }).config;
  } catch (err) {
    process.stderr.write(`nthd audit: ${errorMessage(err)}\n`);
    return EXIT_BAD_INPUT;
  }
  const notice = auditNoticeSeconds(args.kind, config, args.noticeSeconds);
  if (!notice.ok) {
    process.stderr.write(`nthd audit: ${notice.message}\n`);
    return EXIT_BAD_INPUT;
  }
  try {
    return await run(args, config, notice.seconds);
  } catch (err) {
    process.stderr.write(`nthd audit: cannot read the cluster: ${errorMessage(err)}\n`);
    return EXIT_BAD_INPUT;
  }
}

async function run(args: AuditArgs, config: Config, noticeSeconds: number): Promise<number> {
  const progress = createProgress(process.stderr, args.progress);
  const kube = createKubeClient({
    kubeconfigPath: config.kubeconfig,
    qps: config.kubeApiQps,
    burst: config.kubeApiBurst,
  });
  try {
    const snapshot = await readAuditSnapshot(kube, {
      ...(args.selector ? { nodeSelector: args.selector } : {}),
      onProgress: (p) =>
        progress.update(
          `reading ${p.resource}: ${p.read}${p.total !== undefined ? ` of ${p.total}` : ""} (page ${p.pages})`,
        ),
    });
    if (snapshot.nodes.length === 0) {
      progress.done();
      process.stderr.write(
        `nthd audit: no node matches${args.selector ? ` ${JSON.stringify(args.selector)}` : ""}\n`,
      );
      return EXIT_BAD_INPUT;
    }
    const model = {
      startSeconds: args.startSeconds,
      cordonsPerSecond: args.cordonsPerSecond,
      podStartupSeconds: args.podStartupSeconds,
    };
    const prepared = prepareAudit(snapshot, {
      noticeSeconds,
      settings: planSettingsOf(config),
      model: {
        startSeconds: model.startSeconds,
        cordonsPerSecond: model.cordonsPerSecond,
        maxConcurrentDrains: config.maxConcurrentDrains,
        qps: config.kubeApiQps,
        burst: config.kubeApiBurst,
      },
      podStartupSeconds: model.podStartupSeconds,
      now: new Date(),
    });
    const verdicts: NodeVerdict[] = [];
    for (const [i, node] of snapshot.nodes.entries()) {
      progress.update(`planning drains: node ${i + 1} of ${snapshot.nodes.length}`);
      verdicts.push(auditNode(prepared, node));
    }
    progress.update("estimating nodes interrupted together");
    const together = worstTogether(prepared, args.together, args.zone);
    progress.done();
    const report = buildReport({
      kind: args.kind,
      noticeSeconds,
      config,
      model,
      selector: args.selector,
      snapshot,
      verdicts,
      together,
    });
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report));
    return report.summary.atRisk === 0 ? EXIT_IN_TIME : EXIT_AT_RISK;
  } finally {
    progress.done();
    await kube.close();
  }
}
