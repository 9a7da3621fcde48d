/**
 * The EventBridge rules setup creates, derived from the parsers' registry
 * (HANDLED_EVENT_TYPES) so the rules and what nthd can parse never drift
 * apart: every (source, detail-type) of a routed kind lands in the rule of
 * that kind. The table below says, per notice kind, which rule carries it;
 * a new kind fails to compile until it gets a line here.
 */
import type { NoticeKind } from "../../notice.ts";
import { HANDLED_EVENT_TYPES, type HandledEventType } from "../../sources/queue/parse.ts";
import { ruleName } from "./names.ts";

interface Route {
  /** Rule name suffix, as kOps names its rules. */
  readonly event: string;
  /** Extra `detail` filter narrowing the rule to what the parser acts on. */
  readonly detail?: Readonly<Record<string, readonly string[]>>;
  /** Only with `--rebalance`. */
  readonly optIn?: "rebalance";
}

const ROUTES: Readonly<Record<NoticeKind, Route | { readonly notRouted: string }>> = {
  "spot-interruption": { event: "SpotInterruption" },
  "rebalance-recommendation": { event: "RebalanceRecommendation", optIn: "rebalance" },
  "instance-state-change": { event: "InstanceStateChange" },
  "asg-terminate": { event: "ASGLifecycle" },
  "health-scheduled-change": {
    event: "InstanceScheduledChange",
    detail: { service: ["EC2"], eventTypeCategory: ["scheduledChange"] },
  },
  "capacity-reservation-interruption": { event: "CapacityReservationInterruption" },
  "asg-launch": {
    notRouted: "launch lifecycle actions need a launch hook, which setup does not create",
  },
  "scheduled-maintenance": { notRouted: "IMDS only" },
};

export interface EventPattern {
  readonly source: readonly string[];
  readonly "detail-type": readonly string[];
  readonly detail?: Readonly<Record<string, readonly string[]>>;
}

export interface RuleSpec {
  readonly name: string;
  readonly event: string;
  readonly kinds: readonly NoticeKind[];
  readonly pattern: EventPattern;
  readonly description: string;
}

export interface RuleOptions {
  readonly rebalance: boolean;
}

/** The rules for a cluster, in a stable order (registry order). */
export function desiredRules(
  cluster: string,
  options: RuleOptions,
  types: readonly HandledEventType[] = HANDLED_EVENT_TYPES,
): RuleSpec[] {
  const byEvent = new Map<string, { route: Route; types: HandledEventType[] }>();
  for (const type of types) {
    const route = ROUTES[type.kind];
    if ("notRouted" in route) continue;
    if (route.optIn === "rebalance" && !options.rebalance) continue;
    const entry = byEvent.get(route.event) ?? { route, types: [] };
    entry.types.push(type);
    byEvent.set(route.event, entry);
  }
  return [...byEvent.values()].map(({ route, types: routed }) => {
    const sources = unique(routed.map((t) => t.source));
    const kinds = unique(routed.map((t) => t.kind));
    return {
      name: ruleName(cluster, route.event),
      event: route.event,
      kinds,
      pattern: {
        source: sources,
        "detail-type": unique(routed.map((t) => t.detailType)),
        ...(route.detail !== undefined ? { detail: route.detail } : {}),
      },
      description: `nthd (${cluster}): ${kinds.join(", ")} to the termination queue`,
    };
  });
}

/** Every rule event name setup may create (for teardown and doctor). */
export function allRuleEvents(): string[] {
  return unique(Object.values(ROUTES).flatMap((r) => ("notRouted" in r ? [] : [r.event])));
}

/**
 * Whether a rule's pattern delivers events of this type. Only `source` and
 * `detail-type` are compared (exact-string lists, or absent = any); other
 * filters are reported by the caller, not evaluated.
 */
export function patternMatches(pattern: unknown, source: string, detailType: string): boolean {
  if (typeof pattern !== "object" || pattern === null) return false;
  const p = pattern as Record<string, unknown>;
  return listAllows(p.source, source) && listAllows(p["detail-type"], detailType);
}

function listAllows(list: unknown, value: string): boolean {
  if (list === undefined) return true;
  return Array.isArray(list) && list.includes(value);
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
