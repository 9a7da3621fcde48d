/**
 * The one table of IMDS monitors: which metadata item each polls, how its
 * body is read, which settings switch it on and when two notices are the
 * same event. Adding a monitor is adding one entry here.
 */
import type { Config } from "../../config/index.ts";
import type { Notice } from "../../notice.ts";
import type { Parsed } from "../parse-result.ts";
import {
  type ParseContext,
  parseAsgTargetLifecycleState,
  parseRebalanceRecommendation,
  parseScheduledEvents,
  parseSpotInstanceAction,
} from "./parse.ts";

export const IMDS_MONITOR_NAMES = [
  "spot-itn",
  "rebalance",
  "scheduled-events",
  "asg-lifecycle",
] as const;
export type ImdsMonitorName = (typeof IMDS_MONITOR_NAMES)[number];

/** The settings that decide which monitors run. */
export type MonitorSettings = Pick<
  Config,
  | "enableSpotInterruptionDraining"
  | "enableScheduledEventDraining"
  | "enableAsgLifecycleDraining"
  | "enableRebalanceMonitoring"
  | "enableRebalanceDraining"
>;

/** One row of the monitor table. */
export interface ImdsMonitorSpec {
  readonly name: ImdsMonitorName;
  readonly path: string;
  readonly parse: (body: string, ctx: ParseContext) => Parsed;
  readonly enabled: (config: MonitorSettings) => boolean;
  /** Notices with the same key are one event: handed over once. */
  readonly handoverKey: (notice: Notice) => string;
}

export const MONITOR_TABLE: Readonly<Record<ImdsMonitorName, ImdsMonitorSpec>> = {
  "spot-itn": {
    name: "spot-itn",
    path: "/latest/meta-data/spot/instance-action",
    parse: parseSpotInstanceAction,
    enabled: (c) => c.enableSpotInterruptionDraining,
    // A running instance is interrupted at most once. Keyed on the kind, not
    // the id, because `time` may be restated between polls (the metadata
    // emulator recomputes it on every request).
    handoverKey: (n) => n.kind,
  },
  rebalance: {
    name: "rebalance",
    path: "/latest/meta-data/events/recommendations/rebalance",
    parse: parseRebalanceRecommendation,
    // Draining on rebalance implies watching for it (as in NTH).
    enabled: (c) => c.enableRebalanceMonitoring || c.enableRebalanceDraining,
    // One recommendation per instance while it is served; keyed like spot
    // because the emulator restates `noticeTime` with each request too.
    handoverKey: (n) => n.kind,
  },
  "scheduled-events": {
    name: "scheduled-events",
    path: "/latest/meta-data/events/maintenance/scheduled",
    parse: parseScheduledEvents,
    enabled: (c) => c.enableScheduledEventDraining,
    handoverKey: (n) => n.id,
  },
  "asg-lifecycle": {
    name: "asg-lifecycle",
    path: "/latest/meta-data/autoscaling/target-lifecycle-state",
    parse: parseAsgTargetLifecycleState,
    enabled: (c) => c.enableAsgLifecycleDraining,
    handoverKey: (n) => n.id,
  },
};

export function enabledMonitors(config: MonitorSettings): ImdsMonitorSpec[] {
  return IMDS_MONITOR_NAMES.map((name) => MONITOR_TABLE[name]).filter((m) => m.enabled(config));
}
