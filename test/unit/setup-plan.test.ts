// The pure parts of `nthd setup`: rules derived from the parser registry,
// the planner (desired vs observed), teardown ownership, the queue policy
// reader, IAM action names, arguments and the CloudFormation template.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PutRuleCommand } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { parseSetupArgs } from "../../src/commands/setup/args.ts";
import { iamAction, isAccessDenied } from "../../src/commands/setup/aws.ts";
import { cloudFormationTemplate } from "../../src/commands/setup/cloudformation.ts";
import {
  GROUP_ADDED_TAG,
  MANAGED_TAG_KEY_TAG,
  OWNER_TAG,
  RULE_TARGET_ID,
} from "../../src/commands/setup/names.ts";
import { canonical, planSetup, type Step } from "../../src/commands/setup/plan.ts";
import { policyAllowsEventBridge, queuePolicy } from "../../src/commands/setup/policy.ts";
import { desiredRules } from "../../src/commands/setup/rules.ts";
import {
  desiredState,
  type ObservedRule,
  type ObservedState,
  type SetupOptions,
} from "../../src/commands/setup/state.ts";
import { planTeardown } from "../../src/commands/setup/teardown-plan.ts";
import { HANDLED_EVENT_TYPES } from "../../src/sources/queue/parse.ts";

const CLUSTER = "prod.example.com";
const QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:prod-example-com-nth";
const OPTIONS: SetupOptions = {
  cluster: CLUSTER,
  rebalance: false,
  deadLetterQueue: false,
  groups: [],
  managedTag: "aws-node-termination-handler/managed",
  heartbeatTimeoutSeconds: 300,
};
const EMPTY: ObservedState = { rules: [], groups: [], missingGroups: [] };

/** What AWS holds right after a setup with OPTIONS: the observed twin of the desired state. */
function converged(options = OPTIONS): ObservedState {
  const desired = desiredState(options, { queue: QUEUE_ARN });
  const tags = { [OWNER_TAG]: CLUSTER };
  return {
    queue: {
      name: desired.queue.name,
      url: "http://x/123456789012/prod-example-com-nth",
      arn: QUEUE_ARN,
      attributes: { ...desired.queue.attributes, QueueArn: QUEUE_ARN, VisibilityTimeout: "30" },
      tags,
    },
    rules: desired.rules.map((r) => ({
      name: r.name,
      pattern: JSON.stringify(r.pattern),
      state: "ENABLED",
      tags,
      targets: [{ id: RULE_TARGET_ID, arn: QUEUE_ARN }],
    })),
    groups: [],
    missingGroups: [],
  };
}

const plan = (observed: ObservedState, options = OPTIONS) =>
  planSetup(desiredState(options, observed.queue ? { queue: observed.queue.arn } : {}), observed);
const ops = (p: ReturnType<typeof plan>) => p.actions.filter((a) => a.op !== "leave");

describe("rules derived from the parser registry", () => {
  test("every handled detail type of a routed kind is in exactly one rule", () => {
    const rules = desiredRules(CLUSTER, { rebalance: true });
    const routed = rules.flatMap((r) =>
      r.pattern["detail-type"].map((dt) => `${r.pattern.source}|${dt}`),
    );
    assert.equal(new Set(routed).size, routed.length, "no detail type in two rules");
    for (const t of HANDLED_EVENT_TYPES) {
      const inRule = routed.includes(`${t.source}|${t.detailType}`);
      // Launch actions need a launch hook, which setup does not create.
      assert.equal(inRule, t.kind !== "asg-launch", `${t.kind} ${t.detailType}`);
    }
  });

  test("names follow kOps; rebalance only when asked; Health narrowed to EC2 scheduled changes", () => {
    const names = desiredRules(CLUSTER, { rebalance: false }).map((r) => r.name);
    assert.deepEqual(names.sort(), [
      "prod.example.com-ASGLifecycle",
      "prod.example.com-CapacityReservationInterruption",
      "prod.example.com-InstanceScheduledChange",
      "prod.example.com-InstanceStateChange",
      "prod.example.com-SpotInterruption",
    ]);
    const withRebalance = desiredRules(CLUSTER, { rebalance: true });
    assert.ok(withRebalance.some((r) => r.name === "prod.example.com-RebalanceRecommendation"));
    const health = withRebalance.find((r) => r.event === "InstanceScheduledChange");
    assert.deepEqual(health?.pattern.detail, {
      service: ["EC2"],
      eventTypeCategory: ["scheduledChange"],
    });
  });

  test("queue name: dots become dashes", () => {
    assert.equal(desiredState(OPTIONS, {}).queue.name, "prod-example-com-nth");
  });
});

describe("planSetup", () => {
  test("empty account: everything is created, rules target the queue", () => {
    const p = plan(EMPTY);
    assert.deepEqual(
      p.actions.map((a) => `${a.op} ${a.type}`),
      ["create queue", ...Array(5).fill("create rule")],
    );
    const create = p.actions[0]?.steps[0] as Extract<Step, { type: "create-queue" }>;
    assert.equal(create.attributes.MessageRetentionPeriod, "300");
    assert.equal(create.attributes.SqsManagedSseEnabled, "true");
    assert.equal(create.attributes.Policy, undefined, "policy waits for the ARN");
    assert.deepEqual(create.tags, { [OWNER_TAG]: CLUSTER });
    const rule = p.actions[1]?.steps ?? [];
    assert.equal(rule[0]?.type, "put-rule");
    assert.deepEqual((rule[0] as Extract<Step, { type: "put-rule" }>).tags, {
      [OWNER_TAG]: CLUSTER,
    });
    assert.equal(rule[1]?.type, "put-target");
  });

  test("converged state: nothing to do, even when AWS reformats the policy", () => {
    assert.deepEqual(ops(plan(converged())), []);
    const state = converged();
    const policy = JSON.parse(state.queue?.attributes.Policy ?? "{}");
    // AWS may hand back keys in another order and one-element lists as scalars.
    const reformatted = JSON.stringify({
      Statement: policy.Statement,
      Id: policy.Id,
      Version: policy.Version,
    });
    const q = state.queue;
    assert.ok(q);
    assert.deepEqual(
      ops(
        plan({ ...state, queue: { ...q, attributes: { ...q.attributes, Policy: reformatted } } }),
      ),
      [],
    );
  });

  test("a rule deleted by hand is the only thing recreated", () => {
    const state = converged();
    const p = plan({
      ...state,
      rules: state.rules.filter((r) => !r.name.endsWith("-SpotInterruption")),
    });
    assert.deepEqual(
      ops(p).map((a) => `${a.op} ${a.name}`),
      ["create prod.example.com-SpotInterruption"],
    );
  });

  test("a disabled rule is re-enabled; a rule without the queue as target gets it", () => {
    const state = converged();
    const rules: ObservedRule[] = state.rules.map((r) =>
      r.name.endsWith("-SpotInterruption")
        ? { ...r, state: "DISABLED" }
        : r.name.endsWith("-ASGLifecycle")
          ? { ...r, targets: [{ id: "other", arn: "arn:aws:sqs:us-east-1:1:other" }] }
          : r,
    );
    const changed = ops(plan({ ...state, rules }));
    assert.deepEqual(
      changed.map((a) => `${a.op} ${a.name} ${a.steps.map((s) => s.type).join("+")}`),
      [
        "update prod.example.com-SpotInterruption put-rule",
        "update prod.example.com-ASGLifecycle put-target",
      ],
    );
    assert.match(changed[0]?.reason ?? "", /state is DISABLED/);
  });

  test("changed retention and a missing policy are updated in place", () => {
    const state = converged();
    const q = state.queue;
    assert.ok(q);
    const { Policy: _p, ...rest } = q.attributes;
    const changed = ops(
      plan({
        ...state,
        queue: { ...q, attributes: { ...rest, MessageRetentionPeriod: "345600" } },
      }),
    );
    assert.equal(changed.length, 1);
    const step = changed[0]?.steps[0] as Extract<Step, { type: "set-queue-attributes" }>;
    assert.deepEqual(Object.keys(step.attributes).sort(), ["MessageRetentionPeriod", "Policy"]);
  });

  test("a queue encrypted with a customer KMS key keeps it", () => {
    const state = converged();
    const q = state.queue;
    assert.ok(q);
    const attributes = {
      ...q.attributes,
      SqsManagedSseEnabled: "false",
      KmsMasterKeyId: "alias/mine",
    };
    assert.deepEqual(ops(plan({ ...state, queue: { ...q, attributes } })), []);
  });

  test("existing kOps resources without the tag are adopted: left alone, said so", () => {
    const state = converged();
    const untagged = { ...state, rules: state.rules.map((r) => ({ ...r, tags: {} })) };
    const p = plan(untagged);
    assert.deepEqual(ops(p), []);
    assert.match(p.actions[1]?.reason ?? "", /not created by nthd; teardown keeps it/);
  });

  test("dead-letter queue: created first; redrive policy once its ARN is known", () => {
    const options = { ...OPTIONS, deadLetterQueue: true };
    const first = planSetup(desiredState(options, {}), EMPTY);
    assert.deepEqual(
      first.actions.slice(0, 2).map((a) => a.type),
      ["dead-letter-queue", "queue"],
    );
    const desired = desiredState(options, {
      queue: QUEUE_ARN,
      deadLetterQueue: `${QUEUE_ARN}-dlq`,
    });
    assert.deepEqual(JSON.parse(desired.queue.attributes.RedrivePolicy ?? "{}"), {
      deadLetterTargetArn: `${QUEUE_ARN}-dlq`,
      maxReceiveCount: 5,
    });
  });

  test("groups: hook and managed tag added and recorded; a named group that does not exist is a problem", () => {
    const options = { ...OPTIONS, groups: ["nodes-a", "ghost"] };
    const observed: ObservedState = {
      ...converged(),
      groups: [{ name: "nodes-a", tags: {}, hooks: [] }],
      missingGroups: ["ghost"],
    };
    const p = plan(observed, options);
    assert.deepEqual(p.problems, ["Auto Scaling group ghost does not exist (--asg ghost)"]);
    const steps = ops(p).flatMap((a) => a.steps);
    assert.deepEqual(steps[0], {
      type: "put-hook",
      group: "nodes-a",
      hook: "nodes-a-NTHLifecycleHook",
      heartbeatTimeoutSeconds: 300,
    });
    const tags = (steps[1] as Extract<Step, { type: "put-group-tags" }>).tags;
    assert.deepEqual(tags, [
      { key: "aws-node-termination-handler/managed", value: "true", propagateAtLaunch: true },
      { key: OWNER_TAG, value: CLUSTER, propagateAtLaunch: false },
      { key: GROUP_ADDED_TAG, value: "lifecycle-hook managed-tag", propagateAtLaunch: false },
      {
        key: MANAGED_TAG_KEY_TAG,
        value: "aws-node-termination-handler/managed",
        propagateAtLaunch: false,
      },
    ]);
  });

  test("groups that already have a matching hook and the tag (kOps) are left, not claimed", () => {
    const options = { ...OPTIONS, groups: ["nodes-a"] };
    const observed: ObservedState = {
      ...converged(),
      groups: [
        {
          name: "nodes-a",
          tags: { "aws-node-termination-handler/managed": { value: "", propagateAtLaunch: true } },
          hooks: [
            {
              name: "nodes-a-NTHLifecycleHook",
              transition: "autoscaling:EC2_INSTANCE_TERMINATING",
              heartbeatTimeoutSeconds: 300,
              defaultResult: "CONTINUE",
            },
          ],
        },
      ],
    };
    assert.deepEqual(ops(plan(observed, options)), []);
  });
});

describe("planTeardown", () => {
  test("deletes only what carries this cluster's tag, targets before rules, queue before DLQ", () => {
    const state = converged();
    const observed: ObservedState = {
      ...state,
      rules: [
        ...state.rules,
        { name: `${CLUSTER}-RebalanceRecommendation`, state: "ENABLED", tags: {}, targets: [] },
      ],
      deadLetterQueue: {
        name: "dlq",
        url: "u-dlq",
        arn: "a",
        attributes: {},
        tags: { [OWNER_TAG]: "other-cluster" },
      },
      groups: [
        {
          name: "nodes-a",
          tags: {
            [OWNER_TAG]: { value: CLUSTER, propagateAtLaunch: false },
            [GROUP_ADDED_TAG]: { value: "lifecycle-hook", propagateAtLaunch: false },
            "aws-node-termination-handler/managed": { value: "", propagateAtLaunch: true },
          },
          hooks: [{ name: "nodes-a-NTHLifecycleHook" }, { name: "someone-elses-hook" }],
        },
      ],
    };
    const p = planTeardown(CLUSTER, observed);
    const deleted = p.actions.filter((a) => a.op === "delete");
    assert.equal(deleted.filter((a) => a.type === "rule").length, 5);
    assert.deepEqual(
      deleted[0]?.steps.map((s) => s.type),
      ["remove-targets", "delete-rule"],
    );
    const kept = p.actions.filter((a) => a.op === "leave").map((a) => a.name);
    assert.deepEqual(kept, [`${CLUSTER}-RebalanceRecommendation`, "dlq"]);
    const group = deleted.find((a) => a.type === "group-tags");
    assert.deepEqual(group?.steps, [
      { type: "delete-hook", group: "nodes-a", hook: "nodes-a-NTHLifecycleHook" },
      // The managed tag predates nthd (not recorded as added): it stays.
      { type: "delete-group-tags", group: "nodes-a", keys: [OWNER_TAG, GROUP_ADDED_TAG] },
    ]);
    assert.equal(deleted.at(-1)?.type, "queue");
  });
});

describe("queue policy", () => {
  test("setup's own policy allows EventBridge and denies requests without TLS", () => {
    const policy = queuePolicy(QUEUE_ARN);
    assert.deepEqual(policyAllowsEventBridge(JSON.stringify(policy), QUEUE_ARN), { ok: true });
    const deny = (policy.Statement as { Effect: string; Condition?: unknown }[]).find(
      (s) => s.Effect === "Deny",
    );
    assert.deepEqual(deny?.Condition, { Bool: { "aws:SecureTransport": "false" } });
  });

  test("policies that do not let EventBridge send are named", () => {
    const only = (principal: unknown, extra: object = {}) =>
      JSON.stringify({
        Statement: [
          {
            Effect: "Allow",
            Principal: principal,
            Action: "sqs:SendMessage",
            Resource: QUEUE_ARN,
            ...extra,
          },
        ],
      });
    assert.equal(policyAllowsEventBridge(undefined, QUEUE_ARN).ok, false);
    assert.equal(
      policyAllowsEventBridge(only({ Service: "sqs.amazonaws.com" }), QUEUE_ARN).ok,
      false,
    );
    assert.equal(
      policyAllowsEventBridge(
        only({ Service: "events.amazonaws.com" }, { Resource: "arn:other" }),
        QUEUE_ARN,
      ).ok,
      false,
    );
    assert.equal(
      policyAllowsEventBridge(
        only({ Service: "events.amazonaws.com" }, { Condition: { ArnEquals: {} } }),
        QUEUE_ARN,
      ).ok,
      false,
    );
    assert.equal(policyAllowsEventBridge("{not json", QUEUE_ARN).ok, false);
    assert.deepEqual(policyAllowsEventBridge(only("*"), QUEUE_ARN), { ok: true });
    const denied = JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: ["events.amazonaws.com"] },
          Action: "sqs:SendMessage",
          Resource: QUEUE_ARN,
        },
        { Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: QUEUE_ARN },
      ],
    });
    assert.match((policyAllowsEventBridge(denied, QUEUE_ARN) as { reason: string }).reason, /Deny/);
  });

  test("canonical: key order and one-element lists do not matter; values do", () => {
    assert.equal(canonical('{"a":["x"],"b":1}'), canonical('{"b":"1","a":"x"}'));
    assert.notEqual(canonical('{"a":["x","y"]}'), canonical('{"a":["y","x"]}'));
    assert.equal(canonical("300"), canonical("300"));
  });
});

describe("AWS errors name the IAM action", () => {
  test("operation names come from the command", () => {
    assert.equal(iamAction("sqs", new CreateQueueCommand({ QueueName: "q" })), "sqs:CreateQueue");
    assert.equal(iamAction("events", new PutRuleCommand({ Name: "r" })), "events:PutRule");
  });

  test("AccessDenied, AccessDeniedException and UnauthorizedOperation are permission errors", () => {
    for (const name of ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]) {
      assert.equal(isAccessDenied({ name }), true, name);
    }
    assert.equal(isAccessDenied({ name: "QueueDoesNotExist" }), false);
    assert.equal(isAccessDenied(undefined), false);
  });
});

describe("arguments", () => {
  const env = { AWS_REGION: "eu-west-1" };
  test("full set", () => {
    const r = parseSetupArgs(
      [
        "--cluster-name",
        "c1",
        "--rebalance",
        "--dlq",
        "--asg",
        "a",
        "--asg=b",
        "--managed-tag",
        "k",
        "--heartbeat-timeout",
        "600",
        "--dry-run",
      ],
      env,
    );
    assert.ok(r.ok);
    assert.deepEqual(
      { ...r.args },
      {
        cluster: "c1",
        region: "eu-west-1",
        rebalance: true,
        deadLetterQueue: true,
        groups: ["a", "b"],
        managedTag: "k",
        heartbeatTimeoutSeconds: 600,
        dryRun: true,
        output: "plan",
        help: false,
      },
    );
  });

  test("bad input names the flag", () => {
    const bad = (argv: string[], re: RegExp, e: Record<string, string> = env) => {
      const r = parseSetupArgs(argv, e);
      assert.ok(!r.ok);
      assert.match(r.message, re);
    };
    bad([], /--cluster-name is required/);
    bad(["--cluster-name", "has space"], /--cluster-name/);
    bad(["--cluster-name", "c", "--heartbeat-timeout", "10"], /--heartbeat-timeout "10"/);
    bad(["--cluster-name", "c", "--output", "terraform"], /--output/);
    bad(["--cluster-name", "c", "--bogus"], /^unknown option '--bogus'$/);
    bad(["--cluster-name", "c", "--dlg"], /did you mean --dlq\?/);
    bad(["--cluster-name", "c"], /no region/, {});
    // teardown has its own options: setup's are unknown to it.
    const td = parseSetupArgs(["--cluster-name", "c", "--asg", "x"], env, true);
    assert.ok(!td.ok && /^unknown option '--asg'/.test(td.message));
  });
});

describe("CloudFormation template", () => {
  test("same resources as setup: queue, policy, one rule per desired rule, hooks", () => {
    const options = { ...OPTIONS, deadLetterQueue: true, rebalance: true, groups: ["g1"] };
    const t = cloudFormationTemplate(options) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const types = Object.values(t.Resources).map((r) => r.Type);
    assert.equal(
      types.filter((x) => x === "AWS::Events::Rule").length,
      desiredRules(CLUSTER, { rebalance: true }).length,
    );
    assert.equal(types.filter((x) => x === "AWS::SQS::Queue").length, 2);
    assert.ok(types.includes("AWS::SQS::QueuePolicy"));
    assert.ok(types.includes("AWS::AutoScaling::LifecycleHook"));
    const policy = JSON.stringify(t.Resources.QueuePolicy?.Properties);
    assert.ok(
      policy.includes('{"Fn::GetAtt":["Queue","Arn"]}'),
      "policy names the queue by reference",
    );
    assert.ok(!policy.includes("__QUEUE_ARN__"));
    const names = Object.values(t.Resources)
      .filter((r) => r.Type === "AWS::Events::Rule")
      .map((r) => r.Properties.Name);
    assert.deepEqual(
      names,
      desiredRules(CLUSTER, { rebalance: true }).map((r) => r.name),
    );
  });
});
