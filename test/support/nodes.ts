/** Kubernetes Node objects as nthd reads them, for the pure record and patch code. */
import type { V1Node, V1Taint } from "@kubernetes/client-node";

export interface NodeShape {
  readonly name?: string;
  readonly unschedulable?: boolean;
  readonly taints?: V1Taint[];
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/**
 * A Node "n1" read at resourceVersion "42": schedulable, no taints, labels or
 * annotations unless `shape` gives them.
 */
export function node(shape: NodeShape = {}): V1Node {
  return {
    metadata: {
      name: shape.name ?? "n1",
      resourceVersion: "42",
      labels: shape.labels ?? {},
      annotations: shape.annotations ?? {},
    },
    spec: {
      ...(shape.unschedulable ? { unschedulable: true } : {}),
      ...(shape.taints ? { taints: shape.taints } : {}),
    },
  };
}
