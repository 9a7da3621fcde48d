// `nthd setup`, `nthd teardown` and `nthd doctor` against the ground's moto
// (SQS, EventBridge, Auto Scaling, EC2) and kube-apiserver. One cluster name
// per run; a managed tag key of its own so other tests' groups in the shared
// moto never enter doctor's hook check.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DeleteLifecycleHookCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  DeleteRuleCommand,
  DisableRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import type { CheckResult } from "../../src/commands/doctor/check.ts";
import { checkRbac } from "../../src/commands/doctor/kube-checks.ts";
import { runDoctor } from "../../src/commands/doctor/run.ts";
import { createSetupClients } from "../../src/commands/setup/aws.ts";
import { OWNER_TAG } from "../../src/commands/setup/names.ts";
import { runSetup, runTeardown } from "../../src/commands/setup/run.ts";
import type { SetupOptions } from "../../src/commands/setup/state.ts";
import { loadConfig } from "../../src/config/index.ts";
import { parseQueueMessage } from "../../src/sources/queue/parse.ts";
import { createNode, ground, kubeConfig, randomInstanceId, waitNodeReady } from "../env/ground.ts";
import { startNthd } from "../env/nthd-process.ts";
import { eventually } from "../support/eventually.ts";

const suffix = randomBytes(4).toString("hex");
const cluster = `it-${suffix}.k8s.local`;
const queueName = `it-${suffix}-k8s-local-nth`;
const group = `nodes-${suffix}`;
const managedTag = `nthd-test-${suffix}/managed`;
const region = "us-east-1";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const endpoint = ground().motoUrl;
const aws = { region, credentials, endpoint };
const sqs = new SQSClient(aws);
const events = new EventBridgeClient(aws);
const autoscaling = new AutoScalingClient(aws);
const ec2 = new EC2Client(aws);
const clients = createSetupClients({ awsRegion: region, awsEndpoint: endpoint }, credentials);

const options: SetupOptions = {
  cluster,
  rebalance: false,
  deadLetterQueue: true,
  groups: [group],
  managedTag,
  heartbeatTimeoutSeconds: 300,
};

let launchTemplateId: string | undefined;
let queueUrl = "";
let queueArn = "";
// Not nthd's: must survive teardown untouched.
const unrelatedQueue = `unrelated-${suffix}`;
const handMadeRule = `${cluster}-RebalanceRecommendation`;

async function ruleNames(): Promise<string[]> {
  const out = await events.send(new ListRulesCommand({ NamePrefix: `${cluster}-` }));
  return (out.Rules ?? [])
    .map((r) => r.Name ?? "")
    .filter((n) => n.startsWith(`${cluster}-`))
    .sort();
}

async function doctor(sendTestEvent = false): Promise<CheckResult[]> {
  const { config, mode } = loadConfig([], {
    ENABLE_SQS_TERMINATION_DRAINING: "true",
    QUEUE_URL: queueUrl,
    AWS_REGION: region,
    AWS_ENDPOINT: endpoint,
    MANAGED_TAG: managedTag,
    NODE_TERMINATION_GRACE_PERIOD: "120",
  });
  return runDoctor({ config, mode, cluster, sendTestEvent, kubeConfig: kubeConfig(), clients });
}

const failures = (results: readonly CheckResult[]) =>
  results.filter((r) => r.status === "fail").map((r) => `${r.id}: ${r.detail}`);

describe("nthd setup / teardown / doctor against moto and the apiserver", () => {
  before(async () => {
    const lt = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: group,
        LaunchTemplateData: { ImageId: "ami-12c6146b" },
      }),
    );
    launchTemplateId = lt.LaunchTemplate?.LaunchTemplateId;
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        LaunchTemplate: { LaunchTemplateId: launchTemplateId },
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 0,
        AvailabilityZones: ["us-east-1a"],
      }),
    );
    await sqs.send(new CreateQueueCommand({ QueueName: unrelatedQueue }));
    await events.send(
      new PutRuleCommand({
        Name: handMadeRule,
        EventPattern: JSON.stringify({ source: ["aws.ec2"] }),
      }),
    );
  });

  after(async () => {
    await runTeardown(clients, cluster, false).catch(() => {});
    await events.send(new DeleteRuleCommand({ Name: handMadeRule })).catch(() => {});
    const url = await sqs
      .send(new GetQueueUrlCommand({ QueueName: unrelatedQueue }))
      .catch(() => undefined);
    if (url?.QueueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: url.QueueUrl }));
    await autoscaling
      .send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: group, ForceDelete: true }))
      .catch(() => {});
    if (launchTemplateId)
      await ec2
        .send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: launchTemplateId }))
        .catch(() => {});
  });

  test("setup on an empty account creates everything, tagged", async () => {
    const result = await runSetup(clients, options, false);
    assert.deepEqual(result.plan.problems, []);
    queueUrl = result.queueUrl ?? "";
    assert.ok(queueUrl.endsWith(`/${queueName}`), queueUrl);
    const attrs =
      (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }),
        )
      ).Attributes ?? {};
    queueArn = attrs.QueueArn ?? "";
    assert.equal(attrs.MessageRetentionPeriod, "300");
    assert.equal(attrs.SqsManagedSseEnabled, "true");
    const policy = JSON.parse(attrs.Policy ?? "{}") as {
      Statement: { Effect: string; Principal: unknown }[];
    };
    assert.deepEqual(
      policy.Statement.map((s) => s.Effect),
      ["Allow", "Deny"],
    );
    assert.match(JSON.stringify(policy.Statement[0]?.Principal), /events\.amazonaws\.com/);
    assert.match(attrs.RedrivePolicy ?? "", new RegExp(`${queueName}-dlq`));
    const tags = await sqs.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
    assert.equal(tags.Tags?.[OWNER_TAG], cluster);

    assert.deepEqual(
      await ruleNames(),
      [
        `${cluster}-ASGLifecycle`,
        `${cluster}-CapacityReservationInterruption`,
        `${cluster}-InstanceScheduledChange`,
        `${cluster}-InstanceStateChange`,
        handMadeRule,
        `${cluster}-SpotInterruption`,
      ].sort(),
    );
    const targets = await events.send(
      new ListTargetsByRuleCommand({ Rule: `${cluster}-SpotInterruption` }),
    );
    assert.deepEqual(
      targets.Targets?.map((t) => t.Arn),
      [queueArn],
    );

    const hooks = await autoscaling.send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }),
    );
    assert.deepEqual(
      hooks.LifecycleHooks?.map((h) => [
        h.LifecycleHookName,
        h.LifecycleTransition,
        h.HeartbeatTimeout,
        h.DefaultResult,
      ]),
      [[`${group}-NTHLifecycleHook`, "autoscaling:EC2_INSTANCE_TERMINATING", 300, "CONTINUE"]],
    );
    const asg = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
    );
    const managed = asg.AutoScalingGroups?.[0]?.Tags?.find((t) => t.Key === managedTag);
    assert.equal(managed?.PropagateAtLaunch, true);
  });

  test("a second run changes nothing", async () => {
    const result = await runSetup(clients, options, false);
    assert.deepEqual(result.applied, []);
    assert.ok(result.plan.actions.every((a) => a.op === "leave"));
  });

  test("an event put on EventBridge reaches the queue through the rule and parses as a notice", async () => {
    const instanceId = randomInstanceId();
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: "aws.ec2",
            DetailType: "EC2 Spot Instance Interruption Warning",
            Detail: JSON.stringify({ "instance-id": instanceId, "instance-action": "terminate" }),
          },
        ],
      }),
    );
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 5,
        MaxNumberOfMessages: 10,
      }),
    );
    const bodies = (got.Messages ?? [])
      .map((m) => m.Body ?? "")
      .filter((b) => b.includes(instanceId));
    assert.equal(bodies.length, 1, "delivered once, by the SpotInterruption rule");
    const parsed = parseQueueMessage(bodies[0] as string, new Date());
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.deepEqual(
      parsed.notices.map((n) => [n.kind, n.instanceId]),
      [["spot-interruption", instanceId]],
    );
  });

  test("doctor passes on the set-up environment; its test event arrives and is ignored", async () => {
    const results = await doctor(true);
    assert.deepEqual(failures(results), []);
    assert.ok(results.some((r) => r.id === `hook:${group}` && r.status === "pass"));
    assert.ok(results.some((r) => r.id === "rbac" && r.status === "pass"));
    const testEvent = results.find((r) => r.id === "test-event");
    assert.equal(testEvent?.status, "pass", testEvent?.detail ?? "no test-event check");
    assert.match(testEvent?.detail ?? "", /not a kind nthd acts on/);
  });

  test("a rule deleted by hand: doctor names it, setup recreates only that rule", async () => {
    const rule = `${cluster}-SpotInterruption`;
    await events.send(new RemoveTargetsCommand({ Rule: rule, Ids: ["nthd-queue"] }));
    await events.send(new DeleteRuleCommand({ Name: rule }));
    assert.deepEqual(failures(await doctor()), [`rule:${rule}: does not exist`]);
    const result = await runSetup(clients, options, false);
    assert.deepEqual(
      result.applied.map((a) => `${a.op} ${a.name}`),
      [`create ${rule}`],
    );
    assert.deepEqual(failures(await doctor()), []);
  });

  test("doctor names a disabled rule", async () => {
    const rule = `${cluster}-ASGLifecycle`;
    await events.send(new DisableRuleCommand({ Name: rule }));
    assert.deepEqual(failures(await doctor()), [`rule:${rule}: is DISABLED`]);
    await runSetup(clients, options, false);
    assert.deepEqual(failures(await doctor()), []);
  });

  test("doctor names a rule that targets another queue", async () => {
    const rule = `${cluster}-InstanceStateChange`;
    const other = await sqs.send(new CreateQueueCommand({ QueueName: `other-${suffix}` }));
    try {
      const otherArn = (
        await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: other.QueueUrl, AttributeNames: ["QueueArn"] }),
        )
      ).Attributes?.QueueArn;
      await events.send(new RemoveTargetsCommand({ Rule: rule, Ids: ["nthd-queue"] }));
      await events.send(
        new PutTargetsCommand({ Rule: rule, Targets: [{ Id: "elsewhere", Arn: otherArn }] }),
      );
      const found = failures(await doctor());
      assert.equal(found.length, 1);
      assert.match(
        found[0] ?? "",
        new RegExp(`^rule:${rule}: targets .*other-${suffix}, not this queue`),
      );
      await runSetup(clients, options, false);
      assert.deepEqual(failures(await doctor()), []);
    } finally {
      await events
        .send(new RemoveTargetsCommand({ Rule: rule, Ids: ["elsewhere"] }))
        .catch(() => {});
      await sqs.send(new DeleteQueueCommand({ QueueUrl: other.QueueUrl }));
    }
  });

  test("doctor names a policy without EventBridge", async () => {
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "sqs.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn,
        },
      ],
    };
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: { Policy: JSON.stringify(policy) },
      }),
    );
    const found = failures(await doctor());
    assert.equal(found.length, 1);
    assert.match(
      found[0] ?? "",
      /^queue:policy: no unconditional Allow of sqs:SendMessage for events\.amazonaws\.com/,
    );
    const repair = await runSetup(clients, options, false);
    assert.deepEqual(
      repair.applied.map((a) => `${a.op} ${a.type}`),
      ["update queue"],
    );
    assert.deepEqual(failures(await doctor()), []);
  });

  test("doctor names a missing lifecycle hook", async () => {
    await autoscaling.send(
      new DeleteLifecycleHookCommand({
        AutoScalingGroupName: group,
        LifecycleHookName: `${group}-NTHLifecycleHook`,
      }),
    );
    const found = failures(await doctor());
    assert.equal(found.length, 1);
    assert.match(
      found[0] ?? "",
      new RegExp(`^hook:${group}: no autoscaling:EC2_INSTANCE_TERMINATING hook`),
    );
    await runSetup(clients, options, false);
    assert.deepEqual(failures(await doctor()), []);
  });

  test("doctor's RBAC check fails, naming the verb, for an identity without pods/eviction", async () => {
    const admin = kubeConfig();
    const ns = "default";
    const name = `nthd-doctor-${suffix}`;
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
    await rbac.createClusterRole({
      body: {
        metadata: { name },
        rules: [
          { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "patch"] },
          { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
          { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["list", "watch"] },
          { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
        ],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
      },
    });
    try {
      const minted = await core.createNamespacedServiceAccountToken({
        name,
        namespace: ns,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      });
      const limited = new KubeConfig();
      const server = admin.getCurrentCluster();
      assert.ok(server);
      limited.loadFromOptions({
        clusters: [{ ...server, name: "ground" }],
        users: [{ name, token: minted.status?.token }],
        contexts: [{ name, cluster: "ground", user: name }],
        currentContext: name,
      });
      // The review really ran as the ServiceAccount (an admin would pass everything).
      const self = await limited
        .makeApiClient(AuthorizationV1Api)
        .createSelfSubjectRulesReview({ body: { spec: { namespace: ns } } });
      assert.ok(self.status?.resourceRules.length);
      const result = await checkRbac(limited);
      assert.equal(result.status, "fail");
      assert.match(result.detail, /^denied: create pods\/eviction \(evict pods/);
    } finally {
      await rbac.deleteClusterRoleBinding({ name }).catch(() => {});
      await rbac.deleteClusterRole({ name }).catch(() => {});
      await core.deleteNamespacedServiceAccount({ name, namespace: ns }).catch(() => {});
    }
  });

  test("a running nthd handles an event put on EventBridge after setup", async () => {
    const instanceId = randomInstanceId();
    const nodeName = `setup-node-${suffix}`;
    const kc = kubeConfig();
    await createNode({ name: nodeName, instanceId }, kc);
    await waitNodeReady(nodeName, kc);
    const nthd = startNthd({
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      QUEUE_URL: queueUrl,
      AWS_REGION: region,
      AWS_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      KUBECONFIG: ground().kubeconfig,
      // The kwok node's instance exists only in the cluster, not in moto's EC2.
      CHECK_TAG_BEFORE_DRAINING: "false",
    });
    try {
      await events.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: "aws.ec2",
              DetailType: "EC2 Spot Instance Interruption Warning",
              Detail: JSON.stringify({ "instance-id": instanceId, "instance-action": "terminate" }),
            },
          ],
        }),
      );
      const core = kc.makeApiClient(CoreV1Api);
      await eventually("the node cordoned by nthd", async () =>
        (await core.readNode({ name: nodeName })).spec?.unschedulable === true ? true : undefined,
      );
    } finally {
      const code = await nthd.stop();
      await kc
        .makeApiClient(CoreV1Api)
        .deleteNode({ name: nodeName })
        .catch(() => {});
      assert.equal(code, 0, nthd.output());
    }
  });

  test("teardown removes everything of its own and nothing else", async () => {
    const result = await runTeardown(clients, cluster, false);
    assert.ok(result.applied.length > 0);
    assert.deepEqual(
      await ruleNames(),
      [handMadeRule],
      "the hand-made rule without nthd's tag stays",
    );
    for (const name of [queueName, `${queueName}-dlq`]) {
      await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: name })), {
        name: "QueueDoesNotExist",
      });
    }
    const unrelated = await sqs.send(new GetQueueUrlCommand({ QueueName: unrelatedQueue }));
    assert.ok(unrelated.QueueUrl);
    const hooks = await autoscaling.send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }),
    );
    assert.deepEqual(hooks.LifecycleHooks, []);
    const asg = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
    );
    assert.equal(asg.AutoScalingGroups?.length, 1, "the group itself is never touched");
    const keys = (asg.AutoScalingGroups?.[0]?.Tags ?? []).map((t) => t.Key);
    assert.ok(!keys.some((k) => k === managedTag || k?.startsWith("nthd.io/")), keys.join(", "));
    const again = await runTeardown(clients, cluster, false);
    assert.deepEqual(again.applied, []);
  });
});
