/**
 * Doctor's AWS checks for queue mode: credentials and region, the queue and
 * nthd's access to it, the queue policy, the EventBridge rules and the
 * lifecycle hooks of managed groups. Nothing here changes AWS state or
 * takes a real message off the queue.
 */
import {
  DescribeRuleCommand,
  type DescribeRuleCommandOutput,
  ListRuleNamesByTargetCommand,
  type ListRuleNamesByTargetCommandOutput,
} from "@aws-sdk/client-eventbridge";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type GetQueueAttributesCommandOutput,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { errorMessage, isNthdError } from "../../errors.ts";
import { call, type SetupClients } from "../setup/aws.ts";
import { HOOK_TRANSITION } from "../setup/names.ts";
import { groupsTagged, observeHooks, observeRules } from "../setup/observe.ts";
import { policyAllowsEventBridge } from "../setup/policy.ts";
import { desiredRules, patternMatches, type RuleSpec } from "../setup/rules.ts";
import type { ObservedRule } from "../setup/state.ts";
import { type CheckResult, fail, pass, warn } from "./check.ts";

export interface AwsCheckInput {
  readonly clients: SetupClients;
  readonly queueUrl: string;
  /** When known, rules are checked by kOps/setup name; otherwise by what targets the queue. */
  readonly cluster?: string;
  readonly rebalance: boolean;
  readonly managedTag: string;
  readonly drainSeconds: number;
}

export interface QueueFacts {
  readonly arn: string;
  readonly policy?: string;
  readonly messages: number;
}

const setupHint = (input: AwsCheckInput, extra = "") =>
  `nthd setup --cluster-name ${input.cluster ?? "<cluster>"}${extra}`;

export async function checkCredentials(clients: SetupClients): Promise<CheckResult> {
  const title = "AWS credentials and region";
  try {
    const creds = await clients.sqs.config.credentials();
    return pass(
      "aws:credentials",
      title,
      `region ${clients.region}, credentials resolved${creds.expiration ? ` (expire ${creds.expiration.toISOString()})` : ""}`,
    );
  } catch (err) {
    return fail(
      "aws:credentials",
      title,
      `no credentials: ${errorMessage(err)}`,
      "give the pod an IAM role (IRSA / Pod Identity) or set AWS credentials",
    );
  }
}

export async function checkQueue(
  input: AwsCheckInput,
): Promise<{ result: CheckResult; facts?: QueueFacts }> {
  const title = "queue exists";
  try {
    const out = await call<GetQueueAttributesCommandOutput>(
      "sqs",
      input.clients.sqs,
      new GetQueueAttributesCommand({ QueueUrl: input.queueUrl, AttributeNames: ["All"] }),
      `queue ${input.queueUrl}`,
    );
    const a = out.Attributes ?? {};
    const messages =
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
    const facts = {
      arn: a.QueueArn ?? "",
      messages,
      ...(a.Policy !== undefined ? { policy: a.Policy } : {}),
    };
    return { result: pass("queue:exists", title, `${facts.arn} (${messages} messages)`), facts };
  } catch (err) {
    return {
      result: fail(
        "queue:exists",
        title,
        errorMessage(err),
        `create it: ${setupHint(input)}, or fix QUEUE_URL`,
      ),
    };
  }
}

/** AWS answers these for a well-formed call with a made-up receipt handle: the caller was allowed. */
const ALLOWED_BUT_INVALID = new Set([
  "ReceiptHandleIsInvalid",
  "InvalidParameterValue",
  "MessageNotInflight",
]);
const FAKE_HANDLE = "nthd-doctor-permission-probe";

/**
 * Receive, delete and change-visibility rights, proven without touching a
 * message: AWS authorizes before it validates, so a made-up receipt handle
 * gets "invalid handle" when allowed and AccessDenied when not. Receive is
 * only tried on an empty queue (so no real message is taken).
 */
export async function checkQueueAccess(
  input: AwsCheckInput,
  facts: QueueFacts,
): Promise<CheckResult> {
  const title = "nthd may receive, delete and extend messages";
  const denied: string[] = [];
  const probes = [
    new DeleteMessageCommand({ QueueUrl: input.queueUrl, ReceiptHandle: FAKE_HANDLE }),
    new ChangeMessageVisibilityCommand({
      QueueUrl: input.queueUrl,
      ReceiptHandle: FAKE_HANDLE,
      VisibilityTimeout: 0,
    }),
  ];
  for (const probe of probes) {
    try {
      await call("sqs", input.clients.sqs, probe, "permission probe");
    } catch (err) {
      if (isNthdError(err, "AWS_PERMISSION")) denied.push(String(err.context.action));
      else if (
        !(isNthdError(err, "AWS_API") && ALLOWED_BUT_INVALID.has(String(err.context.awsError)))
      ) {
        return fail(
          "queue:access",
          title,
          errorMessage(err),
          "check the queue URL and network access to SQS",
        );
      }
    }
  }
  let receive = "receive not probed: the queue holds messages and doctor never takes one";
  if (facts.messages === 0) {
    try {
      const got = await call<{ Messages?: { ReceiptHandle?: string }[] }>(
        "sqs",
        input.clients.sqs,
        new ReceiveMessageCommand({
          QueueUrl: input.queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 0,
        }),
        "permission probe",
      );
      receive = `receive allowed${(got.Messages?.length ?? 0) > 0 ? " (a message that just arrived was left visible)" : ""}`;
    } catch (err) {
      if (isNthdError(err, "AWS_PERMISSION")) denied.push(String(err.context.action));
      else return fail("queue:access", title, errorMessage(err), "check network access to SQS");
    }
  }
  if (denied.length > 0) {
    return fail(
      "queue:access",
      title,
      `denied: ${denied.join(", ")}`,
      `grant ${denied.join(", ")} on ${facts.arn} to nthd's IAM role`,
    );
  }
  return pass("queue:access", title, `delete and change-visibility allowed; ${receive}`);
}

export function checkPolicy(input: AwsCheckInput, facts: QueueFacts): CheckResult {
  const title = "queue policy lets EventBridge send";
  const verdict = policyAllowsEventBridge(facts.policy, facts.arn);
  if (verdict.ok) return pass("queue:policy", title, "events.amazonaws.com may sqs:SendMessage");
  return fail(
    "queue:policy",
    title,
    verdict.reason,
    `${setupHint(input)} (sets the policy), or allow events.amazonaws.com sqs:SendMessage on ${facts.arn}`,
  );
}

export async function checkRules(input: AwsCheckInput, facts: QueueFacts): Promise<CheckResult[]> {
  const expected = desiredRules(input.cluster ?? "", { rebalance: input.rebalance });
  try {
    return input.cluster !== undefined
      ? await rulesByName(input, facts, expected)
      : await rulesByTarget(input, facts, expected);
  } catch (err) {
    return [
      fail(
        "rules",
        "EventBridge rules",
        errorMessage(err),
        "grant events:ListRules, events:ListTargetsByRule, events:ListRuleNamesByTarget and events:DescribeRule to the identity running doctor",
      ),
    ];
  }
}

async function rulesByName(
  input: AwsCheckInput,
  facts: QueueFacts,
  expected: readonly RuleSpec[],
): Promise<CheckResult[]> {
  const found = await observeRules(input.clients, input.cluster as string);
  return expected.map((spec) => {
    const id = `rule:${spec.name}`;
    const title = `rule ${spec.name}`;
    const rule = found.find((r) => r.name === spec.name);
    const fix = setupHint(input, input.rebalance ? " --rebalance" : "");
    if (rule === undefined) return fail(id, title, "does not exist", fix);
    const problem = ruleProblem(rule, spec, facts.arn);
    return problem === undefined
      ? pass(id, title, `enabled, targets the queue (${spec.kinds.join(", ")})`)
      : fail(id, title, problem, fix);
  });
}

function ruleProblem(rule: ObservedRule, spec: RuleSpec, queueArn: string): string | undefined {
  if (rule.state !== "ENABLED") return `is ${rule.state ?? "not enabled"}`;
  if (!rule.targets.some((t) => t.arn === queueArn)) {
    const others = rule.targets.map((t) => t.arn).join(", ") || "nothing";
    return `targets ${others}, not this queue (${queueArn})`;
  }
  const pattern = parsePattern(rule.pattern);
  const missed = spec.pattern["detail-type"].filter(
    (dt) => !spec.pattern.source.some((s) => patternMatches(pattern, s, dt)),
  );
  if (missed.length > 0)
    return `its pattern does not match ${missed.map((m) => JSON.stringify(m)).join(", ")}`;
  return undefined;
}

async function rulesByTarget(
  input: AwsCheckInput,
  facts: QueueFacts,
  expected: readonly RuleSpec[],
): Promise<CheckResult[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await call<ListRuleNamesByTargetCommandOutput>(
      "events",
      input.clients.events,
      new ListRuleNamesByTargetCommand({
        TargetArn: facts.arn,
        ...(token ? { NextToken: token } : {}),
      }),
      `rules targeting ${facts.arn}`,
    );
    names.push(...(page.RuleNames ?? []));
    token = page.NextToken;
  } while (token);
  const rules: DescribeRuleCommandOutput[] = [];
  for (const name of names) {
    rules.push(
      await call<DescribeRuleCommandOutput>(
        "events",
        input.clients.events,
        new DescribeRuleCommand({ Name: name }),
        `rule ${name}`,
      ),
    );
  }
  return expected.map((spec) => {
    const id = `rule:${spec.event}`;
    const title = `a rule for ${spec.kinds.join(", ")}`;
    const routing = rules.filter((r) =>
      spec.pattern["detail-type"].every((dt) =>
        spec.pattern.source.some((s) => patternMatches(parsePattern(r.EventPattern), s, dt)),
      ),
    );
    const enabled = routing.filter((r) => r.State === "ENABLED");
    if (enabled.length > 0)
      return pass(
        id,
        title,
        `${enabled.map((r) => r.Name).join(", ")} (enabled, targets the queue)`,
      );
    const fix =
      "run doctor with --cluster-name to check rules by name, or create the rule: nthd setup --cluster-name <cluster>";
    if (routing.length > 0)
      return fail(
        id,
        title,
        `${routing.map((r) => r.Name).join(", ")} ${routing.length === 1 ? "is" : "are"} disabled`,
        fix,
      );
    return fail(
      id,
      title,
      `no rule targeting the queue matches ${spec.pattern["detail-type"].map((d) => JSON.stringify(d)).join(", ")}`,
      fix,
    );
  });
}

function parsePattern(pattern: string | undefined): unknown {
  try {
    return pattern === undefined ? undefined : JSON.parse(pattern);
  } catch {
    return undefined;
  }
}

/**
 * Groups carrying the managed tag need a terminate hook, or Auto Scaling
 * terminates their instances without waiting for the drain. A heartbeat
 * timeout shorter than the drain time is only a warning: nthd sends
 * heartbeats while it drains.
 */
export async function checkHooks(input: AwsCheckInput): Promise<CheckResult[]> {
  let groups: string[];
  try {
    groups = await groupsTagged(input.clients, input.managedTag);
  } catch (err) {
    return [fail("hooks", "lifecycle hooks", errorMessage(err), "grant autoscaling:DescribeTags")];
  }
  if (groups.length === 0) {
    return [
      warn(
        "hooks",
        "managed Auto Scaling groups",
        `no group carries the tag ${input.managedTag}`,
        `tag the node groups: ${setupHint(input, " --asg <group>")} (with CHECK_TAG_BEFORE_DRAINING=true, instances without the tag are ignored)`,
      ),
    ];
  }
  const results: CheckResult[] = [];
  for (const group of groups) {
    const id = `hook:${group}`;
    const title = `terminate hook on ${group}`;
    const fix = setupHint(input, ` --asg ${group}`);
    try {
      const hooks = await observeHooks(input.clients, group);
      const hook = hooks.find((h) => h.transition === HOOK_TRANSITION);
      if (hook === undefined) {
        results.push(
          fail(
            id,
            title,
            "no autoscaling:EC2_INSTANCE_TERMINATING hook: Auto Scaling will not wait for drains",
            fix,
          ),
        );
      } else if ((hook.heartbeatTimeoutSeconds ?? 3600) < input.drainSeconds) {
        results.push(
          warn(
            id,
            title,
            `${hook.name}: heartbeat timeout ${hook.heartbeatTimeoutSeconds} s is below the drain time ${input.drainSeconds} s; nthd's heartbeats keep the action open`,
            `raise it: ${setupHint(input, ` --asg ${group} --heartbeat-timeout ${input.drainSeconds}`)}`,
          ),
        );
      } else {
        results.push(
          pass(
            id,
            title,
            `${hook.name}, heartbeat timeout ${hook.heartbeatTimeoutSeconds ?? 3600} s, default ${hook.defaultResult ?? "ABANDON"}`,
          ),
        );
      }
    } catch (err) {
      results.push(fail(id, title, errorMessage(err), "grant autoscaling:DescribeLifecycleHooks"));
    }
  }
  return results;
}
