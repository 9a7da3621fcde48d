/**
 * Doctor's EventBridge checks: a rule for each kind nthd handles is enabled,
 * targets the queue and matches the events. By kOps/setup name when the
 * cluster is known, otherwise by what targets the queue.
 */
import {
  DescribeRuleCommand,
  type DescribeRuleCommandOutput,
  ListRuleNamesByTargetCommand,
  type ListRuleNamesByTargetCommandOutput,
} from "@aws-sdk/client-eventbridge";
import { call } from "../setup/aws.ts";
import { observeRules } from "../setup/observe.ts";
import { desiredRules, patternMatches, type RuleSpec } from "../setup/rules.ts";
import type { ObservedRule } from "../setup/state.ts";
import { type AwsCheckInput, type QueueFacts, setupHint } from "./aws-checks.ts";
import { type CheckResult, errored, fail, pass } from "./check.ts";

export async function checkRules(input: AwsCheckInput, facts: QueueFacts): Promise<CheckResult[]> {
  const expected = desiredRules(input.cluster ?? "", { rebalance: input.rebalance });
  try {
    return input.cluster !== undefined
      ? await rulesByName(input, facts, expected)
      : await rulesByTarget(input, facts, expected);
  } catch (err) {
    return [
      errored(
        "rules",
        "EventBridge rules",
        err,
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
