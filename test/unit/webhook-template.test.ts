import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SETTINGS } from "../../src/config/index.ts";
import { isNthdError } from "../../src/errors.ts";
import type { Notice } from "../../src/notice.ts";
import { webhookData } from "../../src/observe/webhook-data.ts";
import { compileTemplate, goText } from "../../src/observe/webhook-template.ts";

const start = new Date("2024-05-01T10:02:00Z");

describe("webhook template", () => {
  it("renders NTH's default template", () => {
    const t = compileTemplate(SETTINGS.webhookTemplate.default);
    assert.equal(t.json, true);
    const body = t.render({
      EventID: "spot-itn-1",
      Kind: "SPOT_ITN",
      InstanceID: "i-1",
      NodeName: "ip-10-0-0-1.ec2.internal",
      Description: "Spot ITN received",
      StartTime: start,
    });
    assert.deepEqual(JSON.parse(body), {
      text: "[NTH][Instance Interruption] EventID: spot-itn-1 - Kind: SPOT_ITN - Instance: i-1 - Node: ip-10-0-0-1.ec2.internal - Description: Spot ITN received - Start Time: 2024-05-01 10:02:00 +0000 UTC",
    });
  });

  it("JSON-escapes values inside JSON strings so quotes and newlines cannot break the body", () => {
    const t = compileTemplate('{"text": "{{ .Description }}"}');
    const description = 'say "hi"\nand \\ more';
    assert.deepEqual(JSON.parse(t.render({ Description: description })), { text: description });
  });

  it("renders lists, maps and booleans as JSON values outside strings and as Go prints them inside", () => {
    const t = compileTemplate(
      '{"pods": {{ .Pods }}, "labels": {{.NodeLabels}}, "managed": {{ .IsManaged }}, "s": "{{ .Pods }} {{ .NodeLabels }}"}',
    );
    const out = JSON.parse(
      t.render({ Pods: ["a", "b"], NodeLabels: { zone: "z1", app: "x" }, IsManaged: true }),
    ) as Record<string, unknown>;
    assert.deepEqual(out, {
      pods: ["a", "b"],
      labels: { zone: "z1", app: "x" },
      managed: true,
      s: "[a b] map[app:x zone:z1]",
    });
  });

  it("leaves non-JSON templates unescaped, with trim markers and comments handled", () => {
    const t = compileTemplate("Node {{.NodeName}} \n  {{- /* note */ -}}  \n is {{ .State -}}  !");
    assert.equal(t.json, false);
    assert.equal(t.render({ NodeName: 'n"1', State: "stopping" }), 'Node n"1is stopping!');
  });

  it("renders a missing field as empty", () => {
    assert.equal(compileTemplate("[{{ .Region }}]").render({}), "[]");
    assert.equal(
      compileTemplate('{"r":"{{ .Region }}","x":{{ .Region }}}').render({}),
      '{"r":"","x":""}',
    );
  });

  it("rejects an unknown field at compile time, naming it", () => {
    assert.throws(
      () => compileTemplate('{"t":"{{ .EventId }}"}', "setting WEBHOOK_TEMPLATE"),
      (err: unknown) =>
        isNthdError(err, "CONFIG_INVALID") &&
        err.message.includes("WEBHOOK_TEMPLATE") &&
        err.message.includes("unknown field .EventId"),
    );
  });

  it("rejects pipelines, conditionals and unclosed actions", () => {
    for (const src of [
      '{{ .Pods | join "," }}',
      "{{ if .IsManaged }}x{{ end }}",
      "{{ range .Pods }}",
      "a {{ .Kind",
    ]) {
      assert.throws(
        () => compileTemplate(src),
        (err: unknown) => isNthdError(err, "CONFIG_INVALID"),
        src,
      );
    }
  });

  it("prints times as Go's time.Time does", () => {
    assert.equal(goText(new Date("2024-05-01T10:02:03.450Z")), "2024-05-01 10:02:03.45 +0000 UTC");
  });
});

describe("webhook data", () => {
  const notice: Notice = {
    id: "evt-1",
    kind: "asg-terminate",
    instanceId: "i-0abc",
    action: "drain",
    deadline: start,
    receivedAt: new Date("2024-05-01T10:00:00Z"),
    source: "queue",
    detail: { autoScalingGroupName: "workers-a", state: "Terminating", ignored: { nested: 1 } },
  };

  it("maps the notice, detail and caller facts onto NTH's fields plus the outcome", () => {
    const data = webhookData(
      notice,
      { action: "cordon-and-drain", outcome: "deadline-exceeded", reason: "pdb-blocked" },
      { NodeName: "node-1", Pods: ["ns/a"] },
    );
    assert.equal(data.EventID, "evt-1");
    assert.equal(data.Kind, "ASG_LIFECYCLE");
    assert.equal(data.Monitor, "SQS_MONITOR");
    assert.equal(data.AutoScalingGroupName, "workers-a");
    assert.equal(data.State, "Terminating");
    assert.equal(data.StartTime, start);
    assert.equal(data.NodeName, "node-1");
    assert.deepEqual(data.Pods, ["ns/a"]);
    assert.deepEqual(
      [data.Action, data.Outcome, data.OutcomeReason],
      ["cordon-and-drain", "deadline-exceeded", "pdb-blocked"],
    );
  });

  it("names the IMDS monitor that saw the event", () => {
    assert.equal(
      webhookData(
        { ...notice, source: "imds", kind: "spot-interruption" },
        { action: "cordon-and-drain", outcome: "completed" },
      ).Monitor,
      "SPOT_ITN_MONITOR",
    );
  });
});
