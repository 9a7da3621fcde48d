/**
 * What nthd would do with one input, in plain words. Pure: the same parsers
 * the daemon uses, no AWS, no API server. The command prints the result.
 */
import type { NoticeAction, NoticeKind } from "../../notice.ts";
import * as imds from "../../sources/imds/parse.ts";
import type { Parsed } from "../../sources/parse-result.ts";
import { parseQueueMessage, redactedDetail } from "../../sources/queue/parse.ts";

export const EXPLAIN_SOURCES = [
  "sqs",
  "imds-spot",
  "imds-rebalance",
  "imds-scheduled",
  "imds-asg-target-state",
] as const;
export type ExplainSource = (typeof EXPLAIN_SOURCES)[number];

/**
 * handle: nthd acts (and, for the queue, deletes the message once done);
 * ignore-delete: known and irrelevant (queue: deleted; IMDS: nothing to do);
 * keep: malformed (queue: left for redrive to the dead-letter queue; IMDS: logged, polled again).
 */
export type Disposition = "handle" | "ignore-delete" | "keep";

export interface NoticeView {
  readonly id: string;
  readonly kind: NoticeKind;
  readonly instanceId: string;
  readonly action: NoticeAction;
  readonly deadline: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface Classification {
  readonly disposition: Disposition;
  readonly kinds: NoticeKind[];
  readonly instanceIds: string[];
  /** The action; "mixed" never occurs today (one event, one action) but is not assumed. */
  readonly action: NoticeAction | "mixed" | null;
  /** Earliest deadline (ISO 8601) among the notices, or null. */
  readonly deadline: string | null;
  readonly reason: string;
  readonly description: string | null;
  readonly warnings: readonly string[];
  readonly notices: NoticeView[];
}

export interface ClassifyOptions {
  readonly receivedAt: Date;
  /** IMDS bodies do not name their instance; this stands in for it. */
  readonly instanceId: string;
}

export function classify(
  source: ExplainSource,
  body: string,
  opts: ClassifyOptions,
): Classification {
  try {
    return fromParsed(parseFor(source, body, opts), source);
  } catch (err) {
    // The parsers promise not to throw; if one does, say so instead of crashing.
    const message = err instanceof Error ? err.message : String(err);
    return empty("keep", `parser failure (a bug in nthd): ${message}`);
  }
}

function parseFor(source: ExplainSource, body: string, opts: ClassifyOptions): Parsed {
  const ctx = { instanceId: opts.instanceId, receivedAt: opts.receivedAt };
  switch (source) {
    case "sqs":
      return parseQueueMessage(body, opts.receivedAt);
    case "imds-spot":
      return imds.parseSpotInstanceAction(body, ctx);
    case "imds-rebalance":
      return imds.parseRebalanceRecommendation(body, ctx);
    case "imds-scheduled":
      return imds.parseScheduledEvents(body, ctx);
    case "imds-asg-target-state":
      return imds.parseAsgTargetLifecycleState(body, ctx);
    default: {
      const unhandled: never = source;
      throw new Error(`no parser for source ${String(unhandled)}`);
    }
  }
}

export function fromParsed(parsed: Parsed, source: ExplainSource): Classification {
  if (!parsed.ok) {
    if ("ignore" in parsed) return empty("ignore-delete", ignoreWords(parsed.ignore, source));
    return empty("keep", keepWords(parsed.error, source));
  }
  const notices = parsed.notices.map(
    (n): NoticeView => ({
      id: n.id,
      kind: n.kind,
      instanceId: n.instanceId,
      action: queueDrainsRebalance(n, source) ? "drain" : n.action,
      deadline: n.deadline?.toISOString() ?? null,
      detail: redactedDetail(n.detail),
    }),
  );
  const actions = [...new Set(notices.map((n) => n.action))];
  const deadlines = notices.flatMap((n) => (n.deadline === null ? [] : [n.deadline])).sort();
  const warnings = parsed.warnings ?? [];
  const action = actions.length === 1 ? (actions[0] ?? null) : actions.length > 1 ? "mixed" : null;
  const deadline = deadlines[0] ?? null;
  let reason = `${parsed.description}: ${actionWords(action, notices.length)}`;
  if (deadline !== null) reason += `; the instance is expected to go at ${deadline}`;
  if (warnings.length > 0) reason += ` (tolerated: ${warnings.join("; ")})`;
  return {
    disposition: "handle",
    kinds: [...new Set(notices.map((n) => n.kind))],
    instanceIds: [...new Set(notices.map((n) => n.instanceId))],
    action,
    deadline,
    reason,
    description: parsed.description,
    warnings,
    notices,
  };
}

/**
 * The queue source reports a rebalance recommendation as the cordon AWS asks
 * for, and the engine drains it (src/drain/policy.ts), as NTH's queue
 * processor does; explain says what nthd would do.
 */
function queueDrainsRebalance(n: { kind: string; action: string }, source: ExplainSource): boolean {
  return source === "sqs" && n.kind === "rebalance-recommendation" && n.action === "cordon";
}

function empty(disposition: Disposition, reason: string): Classification {
  return {
    disposition,
    kinds: [],
    instanceIds: [],
    action: null,
    deadline: null,
    reason,
    description: null,
    warnings: [],
    notices: [],
  };
}

function actionWords(action: NoticeAction | "mixed" | null, count: number): string {
  const nodes = count === 1 ? "the node" : `${count} nodes`;
  switch (action) {
    case "drain":
      return `cordon and drain ${nodes}`;
    case "cordon":
      return `cordon ${nodes} (IMDS mode drains too with ENABLE_REBALANCE_DRAINING)`;
    case "uncordon":
      return `uncordon ${nodes} if nthd cordoned it for this event`;
    case "complete-launch":
      return "no drain; complete the launch lifecycle action once the node is Ready (if launch hooks are enabled)";
    case "mixed":
      return `act on ${nodes} (actions differ per node)`;
    case null:
      return "nothing to do";
  }
}

function ignoreWords(reason: string, source: ExplainSource): string {
  return source === "sqs" ? `${reason} (the message is deleted)` : `${reason} (nothing to do)`;
}

function keepWords(reason: string, source: ExplainSource): string {
  return source === "sqs"
    ? `${reason} (the message is left on the queue, so redrive moves it to the dead-letter queue)`
    : `${reason} (logged and counted; polled again)`;
}
