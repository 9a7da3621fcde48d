import type { Notice, NoticeKind } from "../notice.ts";
import {
  type FieldValue,
  TEMPLATE_FIELDS,
  type TemplateData,
  type TemplateField,
} from "./webhook-template.ts";

/** aws-node-termination-handler's `.Kind` strings, so templates that print it read the same. */
const NTH_KIND: Record<NoticeKind, string> = {
  "spot-interruption": "SPOT_ITN",
  "rebalance-recommendation": "REBALANCE_RECOMMENDATION",
  "scheduled-maintenance": "SCHEDULED_EVENT",
  "asg-terminate": "ASG_LIFECYCLE",
  "asg-launch": "ASG_LAUNCH_LIFECYCLE",
  "instance-state-change": "STATE_CHANGE",
  "health-scheduled-change": "SCHEDULED_EVENT",
  "capacity-reservation-interruption": "CAPACITY_RESERVATION_INTERRUPTION",
};

/** NTH's `.Monitor`: which poller saw the event (queue mode had one, the SQS monitor). */
const NTH_IMDS_MONITOR: Partial<Record<NoticeKind, string>> = {
  "spot-interruption": "SPOT_ITN_MONITOR",
  "rebalance-recommendation": "REBALANCE_RECOMMENDATION_MONITOR",
  "scheduled-maintenance": "SCHEDULED_EVENT_MONITOR",
  "asg-terminate": "ASG_LIFECYCLE_MONITOR",
};

/** What nthd did about the notice; sent only once this is known. */
export interface WebhookOutcome {
  /** The step taken, e.g. "cordon-and-drain". */
  readonly action: string;
  /** How it ended, e.g. "completed", "deadline-exceeded", "failed", "dry-run". */
  readonly outcome: string;
  readonly reason?: string;
}

/**
 * The template fields for one handled notice. Fields come, in increasing
 * priority, from: the notice itself; `notice.detail` entries named like the
 * field in lower camel case (`detail.autoScalingGroupName` → AutoScalingGroupName);
 * and `facts` the caller knows (node name, labels, evicted pods, IMDS
 * instance facts).
 */
export function webhookData(
  notice: Notice,
  outcome: WebhookOutcome,
  facts: TemplateData = {},
): TemplateData {
  const data: TemplateData = {
    EventID: notice.id,
    Kind: NTH_KIND[notice.kind],
    Monitor: notice.source === "queue" ? "SQS_MONITOR" : (NTH_IMDS_MONITOR[notice.kind] ?? ""),
    Description: `${notice.kind} notice for instance ${notice.instanceId}`,
    InstanceID: notice.instanceId,
    StartTime: notice.deadline ?? notice.eventTime ?? notice.receivedAt,
    Action: outcome.action,
    Outcome: outcome.outcome,
    OutcomeReason: outcome.reason ?? "",
  };
  for (const field of TEMPLATE_FIELDS) {
    const value = detailValue(notice.detail[field.charAt(0).toLowerCase() + field.slice(1)]);
    if (value !== undefined) data[field] = value;
  }
  for (const [field, value] of Object.entries(facts) as [TemplateField, FieldValue][]) {
    if (value !== undefined) data[field] = value;
  }
  return data;
}

/** Accepts only the value shapes templates can print; anything else is left out. */
function detailValue(value: unknown): FieldValue {
  if (typeof value === "string" || typeof value === "boolean" || value instanceof Date)
    return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  if (
    value !== null &&
    typeof value === "object" &&
    Object.values(value).every((v) => typeof v === "string")
  ) {
    return value as Record<string, string>;
  }
  return undefined;
}
