/**
 * Doctor's AWS checks for queue mode: what they are given, the credentials
 * and region, and the lifecycle hooks of managed Auto Scaling groups. The
 * queue checks are in queue-checks.ts, the EventBridge rules in
 * rule-checks.ts. Nothing here changes AWS state or takes a real message off
 * the queue.
 */
import type { SetupClients } from "../setup/aws.ts";
import { HOOK_TRANSITION } from "../setup/names.ts";
import { groupsTagged, observeHooks } from "../setup/observe.ts";
import { type CheckResult, errored, fail, pass, warn } from "./check.ts";

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

/** The setup command that fixes what a check found, with `extra` flags. */
export const setupHint = (input: AwsCheckInput, extra = "") =>
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
    return errored(
      "aws:credentials",
      title,
      err,
      "give the pod an IAM role (IRSA / Pod Identity) or set AWS credentials",
      "no credentials",
    );
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
    return [errored("hooks", "lifecycle hooks", err, "grant autoscaling:DescribeTags")];
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
      results.push(errored(id, title, err, "grant autoscaling:DescribeLifecycleHooks"));
    }
  }
  return results;
}
