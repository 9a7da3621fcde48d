/**
 * Command line of `nthd audit` (node:util parseArgs). Its own options, plus
 * every nthd setting as `--flag=value` (or the environment, as for the
 * daemon), so an audit runs with the settings the deployed nthd uses. Kept
 * apart from the command so it is unit tested without a cluster.
 */
import { parseArgs } from "node:util";
import { SETTINGS } from "../../config/index.ts";
import { AUDIT_DEFAULTS, TOGETHER_SCOPES, type TogetherScope } from "../../drain/audit.ts";
import { parseLabelSelector } from "../../drain/selector.ts";
import { NOTICE_KINDS, type NoticeKind } from "../../notice.ts";

export const AUDIT_USAGE = `usage: nthd audit [-l SELECTOR] [--kind KIND] [--notice-seconds N] [--json]
                  [--together ${TOGETHER_SCOPES.join("|")}] [--zone ZONE] [--no-progress]
                  [--start-seconds S] [--cordon-rate N] [--pod-startup-seconds S]
                  [nthd settings as --flag=value ...]

Reads the cluster (nodes, pods, PodDisruptionBudgets; read-only, a page at a
time) and plans each node's drain as nthd would for a notice of KIND. For
every node: would its pods be gone within the notice, and if not, which pods
block and what to change. Then estimates a simultaneous interruption of many
nodes: PDBs that block, workloads that lose every replica, how long the
drains take at nthd's drain slots and API rate. See docs/audit.md.

  -l, --selector SEL        audit only nodes matching this label selector
  --kind KIND               notice kind (default spot-interruption):
                            ${NOTICE_KINDS.join(", ")}
  --notice-seconds N        notice length (default: the kind's, 120 s for Spot)
  --together SCOPE          nodes interrupted at once for the estimate: every
                            Spot node of one zone (spot-zone, the default), every
                            node of one zone (zone), or every audited node (all);
                            the zone whose interruption does most harm is shown
  --zone ZONE               that zone instead of the worst one
  --json                    one JSON document (fields in docs/audit.md)
  --no-progress             no progress line on a terminal's standard error
  --start-seconds S         notice to the first cordon (default ${AUDIT_DEFAULTS.startSeconds})
  --cordon-rate N           nodes cordoned per second in a mass interruption (default ${AUDIT_DEFAULTS.cordonsPerSecond})
  --pod-startup-seconds S   a replacement's creation to Ready when its workload's
                            pods do not show it (default ${AUDIT_DEFAULTS.podStartupSeconds})

nthd settings that change the verdicts (environment or --flag=value):
DELETE_LOCAL_DATA, IGNORE_DAEMON_SETS, NTHD_EVICT_UNMANAGED_PODS,
POD_TERMINATION_GRACE_PERIOD, NTHD_DEADLINE_SAFETY_MARGIN_SECONDS,
NTHD_MAX_CONCURRENT_DRAINS, KUBE_API_QPS, KUBE_API_BURST, KUBECONFIG.

Exit status: 0 every audited node drains in time, 1 some do not, 2 bad input
or the cluster could not be read.
`;

export interface AuditArgs {
  readonly selector: string;
  readonly kind: NoticeKind;
  readonly noticeSeconds: number | undefined;
  readonly together: TogetherScope;
  readonly zone: string | undefined;
  readonly json: boolean;
  readonly progress: boolean;
  readonly startSeconds: number;
  readonly cordonsPerSecond: number;
  readonly podStartupSeconds: number;
  /** nthd settings given as flags, as `--flag=value` for the configuration loader. */
  readonly settings: readonly string[];
  readonly help: boolean;
}

export type ArgsResult = { ok: true; args: AuditArgs } | { ok: false; message: string };

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

const OWN: Options = {
  selector: { type: "string", short: "l", default: "" },
  kind: { type: "string", default: "spot-interruption" },
  "notice-seconds": { type: "string" },
  together: { type: "string", default: "spot-zone" },
  zone: { type: "string" },
  json: { type: "boolean", default: false },
  "no-progress": { type: "boolean", default: false },
  "start-seconds": { type: "string", default: String(AUDIT_DEFAULTS.startSeconds) },
  "cordon-rate": { type: "string", default: String(AUDIT_DEFAULTS.cordonsPerSecond) },
  "pod-startup-seconds": { type: "string", default: String(AUDIT_DEFAULTS.podStartupSeconds) },
  help: { type: "boolean", short: "h", default: false },
};

/** Every setting's flag and deprecated alias, taking a value. */
const SETTING_FLAGS: readonly string[] = Object.values(SETTINGS).flatMap((s) => [
  s.flag,
  ...(("deprecatedFlags" in s ? s.deprecatedFlags : undefined) ?? []),
]);

export function parseAuditArgs(argv: readonly string[]): ArgsResult {
  const options: Options = { ...OWN };
  for (const flag of SETTING_FLAGS) options[flag] ??= { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    const result = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    values = result.values as typeof values;
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  const str = (name: string) => values[name] as string | undefined;
  const kind = NOTICE_KINDS.find((k) => k === str("kind"));
  if (kind === undefined) {
    return { ok: false, message: `--kind ${str("kind")} is not one of ${NOTICE_KINDS.join(", ")}` };
  }
  const together = TOGETHER_SCOPES.find((t) => t === str("together"));
  if (together === undefined) {
    return {
      ok: false,
      message: `--together ${str("together")} is not one of ${TOGETHER_SCOPES.join(", ")}`,
    };
  }
  const selector = str("selector") ?? "";
  const parsed = parseLabelSelector(selector);
  if (!parsed.ok) return { ok: false, message: `--selector: ${parsed.message}` };
  const numbers: Record<string, number> = {};
  for (const [name, min, max] of [
    ["notice-seconds", 1, 2_592_000],
    ["start-seconds", 0, 3600],
    ["cordon-rate", 0.01, 100_000],
    ["pod-startup-seconds", 0, 3600],
  ] as const) {
    const raw = str(name);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      return {
        ok: false,
        message: `--${name} ${JSON.stringify(raw)}: a number from ${min} to ${max}`,
      };
    }
    numbers[name] = n;
  }
  return {
    ok: true,
    args: {
      selector,
      kind,
      noticeSeconds: numbers["notice-seconds"],
      together,
      zone: str("zone"),
      json: values.json === true,
      progress: values["no-progress"] !== true,
      startSeconds: numbers["start-seconds"] as number,
      cordonsPerSecond: numbers["cordon-rate"] as number,
      podStartupSeconds: numbers["pod-startup-seconds"] as number,
      settings: SETTING_FLAGS.filter((f) => str(f) !== undefined).map((f) => `--${f}=${str(f)}`),
      help: values.help === true,
    },
  };
}
