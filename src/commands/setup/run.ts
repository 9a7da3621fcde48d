/**
 * setup and teardown as functions of (options, clients): observe, plan,
 * then execute unless dry-run. Setup works in two passes when the queues are
 * new: the rules and the policy need the queue's ARN, which exists only once
 * the queue does; the second pass plans against what the first created.
 */
import type { SetupClients } from "./aws.ts";
import { executePlan } from "./execute.ts";
import { observeForSetup, observeForTeardown } from "./observe.ts";
import { type Action, type Plan, planSetup } from "./plan.ts";
import { desiredState, type ObservedState, type SetupOptions } from "./state.ts";
import { planTeardown } from "./teardown-plan.ts";

export interface RunResult {
  readonly plan: Plan;
  /** Actions carried out (empty on dry run or when nothing changes). */
  readonly applied: readonly Action[];
  /** The queue's URL when it exists (after setup: always, unless dry run). */
  readonly queueUrl?: string;
}

export interface RunHooks {
  readonly onAction?: (action: Action) => void;
}

function planFor(options: SetupOptions, observed: ObservedState): Plan {
  const arns = {
    ...(observed.queue ? { queue: observed.queue.arn } : {}),
    ...(observed.deadLetterQueue ? { deadLetterQueue: observed.deadLetterQueue.arn } : {}),
  };
  return planSetup(desiredState(options, arns), observed);
}

const isNewQueue = (a: Action) =>
  a.op === "create" && (a.type === "queue" || a.type === "dead-letter-queue");

const changes = (plan: Plan) => plan.actions.filter((a) => a.op !== "leave");

export async function runSetup(
  clients: SetupClients,
  options: SetupOptions,
  dryRun: boolean,
  hooks: RunHooks = {},
): Promise<RunResult> {
  let observed = await observeForSetup(clients, options.cluster, options.groups);
  let plan = planFor(options, observed);
  if (dryRun || plan.problems.length > 0) return withUrl({ plan, applied: [] }, observed);
  const applied: Action[] = [];
  const run = async (actions: readonly Action[]) => {
    await executePlan(clients, actions, () => {});
    for (const a of actions) hooks.onAction?.(a);
    applied.push(...actions);
  };
  // One queue at a time (the dead-letter queue comes first in the plan), re-planning
  // after each so the next pass names the ARNs that now exist.
  for (let q = plan.actions.find(isNewQueue); q !== undefined; q = plan.actions.find(isNewQueue)) {
    await run([q]);
    observed = await observeForSetup(clients, options.cluster, options.groups);
    plan = planFor(options, observed);
  }
  await run(changes(plan));
  return withUrl({ plan: mergePlans(applied, plan), applied }, observed);
}

function withUrl(result: RunResult, observed: ObservedState): RunResult {
  return observed.queue ? { ...result, queueUrl: observed.queue.url } : result;
}

/** The plan as reported: what the first pass created plus what the last pass did or left. */
function mergePlans(applied: readonly Action[], last: Plan): Plan {
  const done = new Set(applied.map((a) => `${a.type}\n${a.name}`));
  const rest = last.actions.filter((a) => !(a.op === "leave" && done.has(`${a.type}\n${a.name}`)));
  const early = applied.filter((a) => !last.actions.includes(a));
  return { actions: [...early, ...rest], problems: last.problems };
}

export async function runTeardown(
  clients: SetupClients,
  cluster: string,
  dryRun: boolean,
  hooks: RunHooks = {},
): Promise<RunResult> {
  const observed = await observeForTeardown(clients, cluster);
  const plan = planTeardown(cluster, observed);
  if (dryRun) return { plan, applied: [] };
  const todo = changes(plan);
  await executePlan(clients, todo);
  for (const a of todo) hooks.onAction?.(a);
  return { plan, applied: todo };
}
