/**
 * The EventBridge kinds nthd acts on, keyed on (source, detail-type).
 * Adding a kind = one parser file + one line in EVENT_PARSERS. Events of any
 * other well-formed type are ignored (deleted) with a reason.
 */
import type { NoticeKind } from "../../../notice.ts";
import { asgLaunch } from "./asg-launch.ts";
import { asgTerminate } from "./asg-terminate.ts";
import { capacityReservationInterruption } from "./capacity-reservation-interruption.ts";
import { healthScheduledChange } from "./health-scheduled-change.ts";
import { instanceStateChange } from "./instance-state-change.ts";
import { rebalanceRecommendation } from "./rebalance-recommendation.ts";
import { spotInterruption } from "./spot-interruption.ts";
import type { EventParser } from "./types.ts";

export const EVENT_PARSERS: readonly EventParser[] = [
  spotInterruption,
  rebalanceRecommendation,
  instanceStateChange,
  asgTerminate,
  asgLaunch,
  healthScheduledChange,
  capacityReservationInterruption,
];

export interface HandledEventType {
  readonly source: string;
  readonly detailType: string;
  readonly kind: NoticeKind;
}

/** Every (source, detail-type) pair with a parser: for EventBridge rules and docs. */
export const HANDLED_EVENT_TYPES: readonly HandledEventType[] = EVENT_PARSERS.flatMap((p) =>
  p.detailTypes.map((detailType) => ({ source: p.source, detailType, kind: p.kind })),
);

const BY_TYPE = new Map(
  EVENT_PARSERS.flatMap((p) => p.detailTypes.map((t) => [key(p.source, t), p] as const)),
);

export function parserFor(source: string, detailType: string): EventParser | undefined {
  return BY_TYPE.get(key(source, detailType));
}

function key(source: string, detailType: string): string {
  return `${source}\n${detailType}`;
}
