import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { microTime } from "../../src/kube/leases.ts";
import { replicaLeaseName } from "../../src/kube/replica-lease.ts";

describe("replica Lease names and times", () => {
  test("the pod's name, else host and process; always a valid object name", () => {
    assert.equal(replicaLeaseName("nthd-7d9f-abcde"), "nthd-nthd-7d9f-abcde");
    assert.equal(
      replicaLeaseName("", "ip-10-0-0-1.ec2.internal", 42),
      "nthd-ip-10-0-0-1.ec2.internal-42",
    );
    assert.equal(replicaLeaseName("", "My_Host", 7), "nthd-my-host-7");
    assert.match(replicaLeaseName("x".repeat(400)), /^[a-z0-9][a-z0-9.-]{0,251}[a-z0-9]$/);
  });

  test("MicroTime has six fractional digits, as the API server parses it", () => {
    assert.equal(microTime(new Date("2026-03-01T12:00:00.123Z")), "2026-03-01T12:00:00.123000Z");
  });
});
