/**
 * The capacity pool a notice's node belongs to (instance type, zone,
 * capacity type, Auto Scaling group), for the interruptions-per-pool metric.
 * Read from the well-known labels that kubelets, Karpenter, EKS managed node
 * groups and common node-group tooling put on nodes. Pure.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Notice } from "../notice.ts";
import type { CapacityType, Pool } from "../observe/labels.ts";

const INSTANCE_TYPE_LABELS = [
  "node.kubernetes.io/instance-type",
  "beta.kubernetes.io/instance-type",
] as const;
const ZONE_LABELS = [
  "topology.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/zone",
] as const;
const KARPENTER_CAPACITY_TYPE = "karpenter.sh/capacity-type";
/** Karpenter's reserved capacity is either an On-Demand Capacity Reservation or a Capacity Block. */
const KARPENTER_RESERVATION_TYPE = "karpenter.k8s.aws/capacity-reservation-type";
const EKS_CAPACITY_TYPE = "eks.amazonaws.com/capacityType";
/** Labels node-group tooling and cluster guides use for Spot vs On-Demand, checked in order. */
const LIFECYCLE_LABELS = ["node.kubernetes.io/lifecycle", "node-lifecycle", "lifecycle"] as const;

/** Capacity type words seen in those labels (lower-cased, without `-` or `_`). */
const CAPACITY_WORDS: Readonly<Record<string, CapacityType>> = {
  spot: "spot",
  ec2spot: "spot",
  ondemand: "on-demand",
  normal: "on-demand",
  capacityblock: "capacity-block",
};

function firstLabel(labels: Record<string, string>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = labels[key]?.trim();
    if (value) return value;
  }
  return undefined;
}

function capacityWord(raw: string | undefined): CapacityType | undefined {
  if (raw === undefined) return undefined;
  return CAPACITY_WORDS[raw.toLowerCase().replace(/[-_]/g, "")];
}

/** The node's capacity type from its labels, or undefined when no label says. */
export function capacityTypeOf(labels: Record<string, string>): CapacityType | undefined {
  const karpenter = labels[KARPENTER_CAPACITY_TYPE]?.trim().toLowerCase();
  if (karpenter === "reserved") {
    return labels[KARPENTER_RESERVATION_TYPE] === "capacity-block" ? "capacity-block" : "on-demand";
  }
  return (
    capacityWord(karpenter) ??
    capacityWord(labels[EKS_CAPACITY_TYPE]) ??
    capacityWord(firstLabel(labels, LIFECYCLE_LABELS))
  );
}

/** The pool a node's labels name (no Auto Scaling group: labels do not carry it). */
export function poolOfLabels(labels: Record<string, string>): Pool {
  return {
    instanceType: firstLabel(labels, INSTANCE_TYPE_LABELS),
    availabilityZone: firstLabel(labels, ZONE_LABELS),
    capacityType: capacityTypeOf(labels) ?? "unknown",
  };
}

/**
 * The pool of the node a notice is about. Without a capacity label, a Spot
 * interruption still tells that the instance was Spot; other kinds say nothing.
 */
export function poolOf(node: V1Node, notice: Pick<Notice, "kind" | "detail">): Pool {
  const labels = node.metadata?.labels ?? {};
  const asg = notice.detail.autoScalingGroupName;
  return {
    instanceType: firstLabel(labels, INSTANCE_TYPE_LABELS),
    availabilityZone: firstLabel(labels, ZONE_LABELS),
    capacityType:
      capacityTypeOf(labels) ?? (notice.kind === "spot-interruption" ? "spot" : "unknown"),
    asg: typeof asg === "string" && asg.trim() !== "" ? asg : undefined,
  };
}
