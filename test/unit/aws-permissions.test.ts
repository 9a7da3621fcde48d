// The table of IAM actions queue mode uses, and how a refusal is recognised.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isAccessDenied, QUEUE_MODE_PERMISSIONS } from "../../src/aws/permissions.ts";
import { AWS_PERMISSIONS } from "../../src/observe/labels.ts";

describe("AWS permissions", () => {
  test("one row per action, each saying what stops working", () => {
    assert.deepEqual(
      QUEUE_MODE_PERMISSIONS.map((p) => p.action),
      [...AWS_PERMISSIONS],
    );
    for (const p of QUEUE_MODE_PERMISSIONS) assert.ok(p.without.length > 20, p.action);
    const optional = QUEUE_MODE_PERMISSIONS.filter((p) => !p.required).map((p) => p.action);
    assert.deepEqual(optional, [
      "sqs:ChangeMessageVisibility",
      "autoscaling:DescribeLifecycleHooks",
      "autoscaling:RecordLifecycleActionHeartbeat",
    ]);
  });

  test("refusals by name, by code, or as a bare 403; credential failures are not", () => {
    assert.equal(isAccessDenied({ name: "AccessDenied" }), true);
    assert.equal(isAccessDenied({ name: "x", Code: "UnauthorizedOperation" }), true);
    assert.equal(isAccessDenied({ name: "SyntaxError", $metadata: { httpStatusCode: 403 } }), true);
    assert.equal(
      isAccessDenied({ name: "InvalidClientTokenId", $metadata: { httpStatusCode: 403 } }),
      false,
    );
    assert.equal(
      isAccessDenied({ name: "ValidationError", $metadata: { httpStatusCode: 400 } }),
      false,
    );
    assert.equal(isAccessDenied(null), false);
  });
});
