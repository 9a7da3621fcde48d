import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Node } from "@kubernetes/client-node";
import { capacityTypeOf, poolOf } from "../../src/drain/pool.ts";
import type { Notice } from "../../src/notice.ts";

const node = (labels: Record<string, string>): V1Node => ({ metadata: { name: "n", labels } });
const spot: Pick<Notice, "kind" | "detail"> = { kind: "spot-interruption", detail: {} };
const maintenance: Pick<Notice, "kind" | "detail"> = {
  kind: "scheduled-maintenance",
  detail: {},
};

test("instance type, zone and capacity type come from the well-known node labels", () => {
  const pool = poolOf(
    node({
      "node.kubernetes.io/instance-type": "m7g.large",
      "beta.kubernetes.io/instance-type": "old.value",
      "topology.kubernetes.io/zone": "eu-west-1b",
      "karpenter.sh/capacity-type": "spot",
    }),
    { kind: "asg-terminate", detail: { autoScalingGroupName: "workers-a" } },
  );
  assert.deepEqual(pool, {
    instanceType: "m7g.large",
    availabilityZone: "eu-west-1b",
    capacityType: "spot",
    asg: "workers-a",
  });
});

test("older label names are read when the current ones are missing", () => {
  const pool = poolOf(
    node({
      "beta.kubernetes.io/instance-type": "c5.xlarge",
      "failure-domain.beta.kubernetes.io/zone": "us-east-1a",
    }),
    maintenance,
  );
  assert.equal(pool.instanceType, "c5.xlarge");
  assert.equal(pool.availabilityZone, "us-east-1a");
});

test("capacity type from Karpenter, EKS managed node groups or lifecycle labels", () => {
  assert.equal(capacityTypeOf({ "karpenter.sh/capacity-type": "on-demand" }), "on-demand");
  assert.equal(capacityTypeOf({ "karpenter.sh/capacity-type": "reserved" }), "on-demand");
  assert.equal(
    capacityTypeOf({
      "karpenter.sh/capacity-type": "reserved",
      "karpenter.k8s.aws/capacity-reservation-type": "capacity-block",
    }),
    "capacity-block",
  );
  assert.equal(capacityTypeOf({ "eks.amazonaws.com/capacityType": "SPOT" }), "spot");
  assert.equal(capacityTypeOf({ "eks.amazonaws.com/capacityType": "ON_DEMAND" }), "on-demand");
  assert.equal(
    capacityTypeOf({ "eks.amazonaws.com/capacityType": "CAPACITY_BLOCK" }),
    "capacity-block",
  );
  assert.equal(capacityTypeOf({ "node.kubernetes.io/lifecycle": "spot" }), "spot");
  assert.equal(capacityTypeOf({ "node-lifecycle": "on-demand" }), "on-demand");
  assert.equal(capacityTypeOf({ lifecycle: "Ec2Spot" }), "spot");
  assert.equal(capacityTypeOf({ lifecycle: "OnDemand" }), "on-demand");
  assert.equal(capacityTypeOf({ "node.kubernetes.io/lifecycle": "normal" }), "on-demand");
  // Karpenter's label wins over a stale lifecycle label.
  assert.equal(
    capacityTypeOf({ "karpenter.sh/capacity-type": "on-demand", lifecycle: "Ec2Spot" }),
    "on-demand",
  );
  assert.equal(capacityTypeOf({ lifecycle: "something-else" }), undefined);
  assert.equal(capacityTypeOf({}), undefined);
});

test("without a capacity label, a Spot interruption says the node was Spot; others say nothing", () => {
  assert.equal(poolOf(node({}), spot).capacityType, "spot");
  assert.equal(poolOf(node({}), maintenance).capacityType, "unknown");
  assert.equal(
    poolOf(node({ "eks.amazonaws.com/capacityType": "ON_DEMAND" }), spot).capacityType,
    "on-demand",
    "a label is believed over the notice kind",
  );
});

test("missing labels and odd group names are left for the metric to call unknown", () => {
  const pool = poolOf({ metadata: { name: "bare" } }, { kind: "asg-terminate", detail: {} });
  assert.deepEqual(pool, {
    instanceType: undefined,
    availabilityZone: undefined,
    capacityType: "unknown",
    asg: undefined,
  });
  for (const odd of [42, "", "  ", null, { name: "x" }]) {
    assert.equal(
      poolOf(node({}), { kind: "asg-terminate", detail: { autoScalingGroupName: odd } }).asg,
      undefined,
    );
  }
});
