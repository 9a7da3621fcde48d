// Pure parts of `nthd doctor`: its own flags, the checklist, and the test
// event's classification by nthd's parser (ignored, never drained).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { loadYaml } from "@kubernetes/client-node";
import { fail, failed, pass, renderChecklist, warn } from "../../src/commands/doctor/check.ts";
import { splitDoctorArgs } from "../../src/commands/doctor/command.ts";
import {
  leasePermissions,
  NTHD_PERMISSIONS,
  permissionName,
} from "../../src/commands/doctor/kube-checks.ts";
import { testEventBody } from "../../src/commands/doctor/test-event.ts";
import { parseQueueMessage } from "../../src/sources/queue/parse.ts";

describe("doctor", () => {
  test("doctor's flags are split from nthd's", () => {
    const f = splitDoctorArgs([
      "--json",
      "--cluster-name",
      "c1",
      "--queue-url",
      "http://q",
      "--send-test-event",
    ]);
    assert.ok(!("error" in f));
    assert.deepEqual(f, {
      json: true,
      sendTestEvent: true,
      cluster: "c1",
      help: false,
      rest: ["--queue-url", "http://q"],
    });
    assert.deepEqual(splitDoctorArgs(["--cluster-name"]), {
      error: "option --cluster-name needs a value",
    });
    // The daemon's flags pass through in their own forms.
    const g = splitDoctorArgs(["--enable-sqs-termination-draining", "--workers=3", "--json"]);
    assert.ok(!("error" in g));
    assert.deepEqual(g.rest, ["--enable-sqs-termination-draining", "--workers=3"]);
    assert.equal(g.json, true);
  });

  test("a warning does not fail the run; a failure does, and its fix is printed", () => {
    const results = [pass("a", "A", "fine"), warn("b", "B", "meh", "do b")];
    assert.equal(failed(results), false);
    const withFail = [
      ...results,
      fail("c", "rule x", "does not exist", "nthd setup --cluster-name c"),
    ];
    assert.equal(failed(withFail), true);
    const text = renderChecklist(withFail);
    assert.match(text, /\[FAIL\] rule x: does not exist\n {7}fix: nthd setup --cluster-name c/);
    assert.match(text, /1 passed, 1 failed, 1 warnings, 0 skipped/);
  });

  test("the test event is EventBridge-shaped and nthd ignores it", () => {
    const body = testEventBody("nthd-doctor-1", "us-east-1", new Date("2026-01-01T00:00:00Z"));
    const parsed = parseQueueMessage(body, new Date());
    assert.equal(parsed.ok, false);
    assert.ok("ignore" in parsed, "ignored (deleted), not an error kept for the DLQ");
  });

  test("the RBAC list is exactly the chart's ClusterRole", () => {
    // The template is static apart from its metadata; drop the templated lines.
    const template = readFileSync(
      new URL("../../charts/nthd/templates/clusterrole.yaml", import.meta.url),
      "utf8",
    );
    const role = loadYaml(
      template
        .split("\n")
        .filter((line) => !line.includes("{{"))
        .join("\n"),
    ) as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    const granted = role.rules.flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) =>
          rule.verbs.map((verb) => `${verb} ${group ? `${group}/` : ""}${resource}`),
        ),
      ),
    );
    assert.deepEqual(NTHD_PERMISSIONS.map(permissionName).sort(), granted.sort());
  });

  test("queue mode's lease list is exactly the chart's Role, in one namespace", () => {
    const template = readFileSync(
      new URL("../../charts/nthd/templates/role.yaml", import.meta.url),
      "utf8",
    );
    const role = loadYaml(
      template
        .split("\n")
        .filter((line) => !line.includes("{{"))
        .join("\n"),
    ) as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    const granted = role.rules.flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) =>
          rule.verbs.map((verb) => `${verb} ${group}/${resource}`),
        ),
      ),
    );
    const asked = leasePermissions("kube-system");
    assert.deepEqual(asked.map(permissionName).sort(), granted.sort());
    assert.ok(asked.every((p) => p.namespace === "kube-system"));
  });
});
