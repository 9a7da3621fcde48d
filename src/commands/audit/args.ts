/**
 * Command line of `nthd audit`, read by the parser every command uses
 * (src/config/argv.ts). Its own options, plus every nthd setting as a flag
 * (or the environment, as for the daemon), so an audit runs with the
 * settings the deployed nthd uses. Kept apart from the command so it is
 * unit tested without a cluster.
 */
import {
  type CommandLineSpec,
  type OptionSpec,
  parseCommandLine,
  SETTINGS,
} from "../../config/index.ts";
import { bool } from "../../config/parse-values.ts";
import { AUDIT_DEFAULTS, TOGETHER_SCOPES, type TogetherScope } from "../../drain/audit.ts";
import { parseLabelSelector } from "../../drain/selector.ts";
import { NOTICE_KINDS, type NoticeKind } from "../../notice.ts";

/** Every setting's flag and deprecated alias: passed on to nthd's configuration loader. */
const SETTING_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.fromEntries(
  Object.values(SETTINGS).flatMap((s) =>
    [s.flag, ...(("deprecatedFlags" in s ? s.deprecatedFlags : undefined) ?? [])].map((flag) => [
      flag,
      {
        type: s.parse === (bool as unknown) ? "boolean" : "string",
        help: "an nthd setting (nthd --help)",
      } satisfies OptionSpec,
    ]),
  ),
);

const OWN: Readonly<Record<string, OptionSpec>> = {
  selector: {
    type: "string",
    short: "l",
    value: "SELECTOR",
    help: "audit only nodes matching this label selector",
  },
  kind: {
    type: "string",
    value: "KIND",
    help: `notice kind (default spot-interruption): ${NOTICE_KINDS.join(", ")}`,
  },
  "notice-seconds": {
    type: "string",
    value: "N",
    help: "notice length (default: the kind's, 120 s for Spot)",
  },
  together: {
    type: "string",
    value: "SCOPE",
    help: `nodes interrupted at once for the estimate: ${TOGETHER_SCOPES.join(", ")} (default spot-zone: every Spot node of one zone; the zone whose interruption does most harm is shown)`,
  },
  zone: { type: "string", value: "ZONE", help: "that zone instead of the worst one" },
  json: { type: "boolean", help: "one JSON document (fields in docs/audit.md)" },
  "no-progress": { type: "boolean", help: "no progress line on a terminal's standard error" },
  "start-seconds": {
    type: "string",
    value: "S",
    help: `notice to the first cordon (default ${AUDIT_DEFAULTS.startSeconds})`,
  },
  "cordon-rate": {
    type: "string",
    value: "N",
    help: `nodes cordoned per second in a mass interruption (default ${AUDIT_DEFAULTS.cordonsPerSecond})`,
  },
  "pod-startup-seconds": {
    type: "string",
    value: "S",
    help: `a replacement's creation to Ready when its workload's pods do not show it (default ${AUDIT_DEFAULTS.podStartupSeconds})`,
  },
};

export const AUDIT_LINE: CommandLineSpec = {
  name: "nthd audit",
  synopsis: ["nthd audit [options] [nthd settings as --flag=value ...]"],
  description: `Reads the cluster (nodes, pods, PodDisruptionBudgets; read-only, a page at a
time) and plans each node's drain as nthd would for a notice of KIND. For
every node: would its pods be gone within the notice, and if not, which pods
block and what to change. Then estimates a simultaneous interruption of many
nodes: PDBs that block, workloads that lose every replica, how long the
drains take at nthd's drain slots and API rate. See docs/audit.md.`,
  options: OWN,
  notes: `nthd settings that change the verdicts (environment or --flag=value):
DELETE_LOCAL_DATA, IGNORE_DAEMON_SETS, NTHD_EVICT_UNMANAGED_PODS,
POD_TERMINATION_GRACE_PERIOD, NTHD_DEADLINE_SAFETY_MARGIN_SECONDS,
NTHD_MAX_CONCURRENT_DRAINS, KUBE_API_QPS, KUBE_API_BURST, KUBECONFIG.`,
  exitCodes: {
    0: "every audited node drains in time",
    1: "some do not",
    2: "bad input, or the cluster could not be read",
  },
};

/** The parser's view: the audit's options and every setting (not listed in the usage). */
const PARSED_LINE: CommandLineSpec = { ...AUDIT_LINE, options: { ...SETTING_OPTIONS, ...OWN } };

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

export function parseAuditArgs(argv: readonly string[]): ArgsResult {
  const parsed = parseCommandLine(PARSED_LINE, argv);
  if (!parsed.ok) return parsed;
  const values = parsed.values;
  const str = (name: string) => values[name] as string | undefined;
  const kindText = str("kind") ?? "spot-interruption";
  const kind = NOTICE_KINDS.find((k) => k === kindText);
  if (kind === undefined) {
    return { ok: false, message: `--kind ${kindText} is not one of ${NOTICE_KINDS.join(", ")}` };
  }
  const togetherText = str("together") ?? "spot-zone";
  const together = TOGETHER_SCOPES.find((t) => t === togetherText);
  if (together === undefined) {
    return {
      ok: false,
      message: `--together ${togetherText} is not one of ${TOGETHER_SCOPES.join(", ")}`,
    };
  }
  const selector = str("selector") ?? "";
  const labels = parseLabelSelector(selector);
  if (!labels.ok) return { ok: false, message: `--selector: ${labels.message}` };
  const numbers: Record<string, number> = {
    "start-seconds": AUDIT_DEFAULTS.startSeconds,
    "cordon-rate": AUDIT_DEFAULTS.cordonsPerSecond,
    "pod-startup-seconds": AUDIT_DEFAULTS.podStartupSeconds,
  };
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
      settings: Object.keys(SETTING_OPTIONS)
        .filter((f) => values[f] !== undefined)
        .map((f) => `--${f}=${String(values[f])}`),
      help: parsed.help,
    },
  };
}
