/**
 * `nthd select NAME [flags]`: reads instance types (and, where available,
 * Spot prices and placement scores) from EC2 and nthd's interruption counts
 * from Prometheus, then prints instance groups. Only reads; never changes AWS.
 * Exit codes: 0 printed, 1 a read failed, 2 bad flags or impossible requirements.
 * The manifest goes to stdout; a summary and notes go to stderr.
 */
import { createAwsClients } from "../../aws/clients.ts";
import { usageError, usageText } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import {
  readInstanceTypes,
  readOfferings,
  readPlacementScore,
  readSpotPricePerVcpu,
  zonesOfSubnets,
} from "./aws.ts";
import type { RankFacts } from "./group.ts";
import { parseSelectArgs, SELECT_LINE } from "./options.ts";
import { type Plan, planSelection, selectCandidates } from "./plan.ts";
import { RENDERERS } from "./render/index.ts";
import type { Zones } from "./requirements.ts";
import { fetchInterruptions } from "./stability.ts";
import { splitSubnets } from "./subnets.ts";

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

type Env = Readonly<Record<string, string | undefined>>;

export interface SelectIo {
  readonly env: Env;
  out(text: string): void;
  err(text: string): void;
}

const defaultIo: SelectIo = {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export async function selectCommand(
  args: readonly string[],
  io: SelectIo = defaultIo,
): Promise<number> {
  const parsed = parseSelectArgs(args, io.env);
  if (!parsed.ok) {
    io.err(usageError(SELECT_LINE, parsed.message));
    return EXIT_USAGE;
  }
  const o = parsed.options;
  if (o.help) {
    io.out(usageText(SELECT_LINE));
    return 0;
  }
  const note = (text: string): void => io.err(`nthd select: ${text}\n`);
  const endpoint = io.env.AWS_ENDPOINT ?? "";
  const config = { queueUrl: "", awsRegion: o.region, awsEndpoint: endpoint };
  const noMetrics = { observe: () => {}, env: io.env };
  const { ec2 } = createAwsClients(config, noMetrics);
  // Optional calls get one attempt: a missing API should cost one round trip, not a retry budget.
  const { ec2: ec2Optional } = createAwsClients(config, { ...noMetrics, maxAttempts: 1 });

  try {
    const records = await readInstanceTypes(ec2);
    const spec = splitSubnets(o.subnets);
    const zoneList = [...spec.zones];
    if (spec.subnetIds.length > 0) {
      for (const z of await zonesOfSubnets(ec2, spec.subnetIds))
        if (!zoneList.includes(z)) zoneList.push(z);
    }
    const zones: Zones | undefined =
      zoneList.length > 0
        ? { zones: zoneList, offered: await readOfferings(ec2, zoneList) }
        : undefined;

    const selected = selectCandidates(o, records, zones);
    if (!selected.ok) {
      note(selected.message);
      return EXIT_USAGE;
    }
    const facts: { -readonly [K in keyof RankFacts]: RankFacts[K] } = {};
    if (o.preferStable && o.metricsUrl !== undefined) {
      try {
        facts.interruptions = await fetchInterruptions(o.metricsUrl, o.stableWindowDays, zoneList);
      } catch (err) {
        note(`--prefer-stable: reading interruption counts: ${errorMessage(err)}`);
        return EXIT_FAILED;
      }
    }
    if (o.usageClass === "spot") {
      const priced = await readSpotPricePerVcpu(ec2Optional, selected.candidates, zoneList);
      if (priced.note !== undefined) note(`note: ${priced.note}`);
      facts.spotPricePerVcpu = priced.prices;
    }
    const planned = planSelection(o, records, facts, zones);
    if (!planned.ok) {
      note(planned.message);
      return EXIT_USAGE;
    }
    const placement = async (types: string[]) =>
      o.usageClass === "spot"
        ? readPlacementScore(ec2Optional, o.region, types, o.nodeCountMax)
        : {};
    for (const line of await summarize(planned.plan, facts, placement)) note(line);
    io.out(
      RENDERERS[o.output]({
        options: o,
        plan: planned.plan,
        zones: zoneList,
        subnetIds: spec.subnetIds,
      }),
    );
    return 0;
  } catch (err) {
    note(errorMessage(err));
    return EXIT_FAILED;
  } finally {
    ec2.destroy();
    ec2Optional.destroy();
  }
}

/** One stderr line per group (what it holds and why to trust it), plus notes said once. */
async function summarize(
  plan: Plan,
  facts: RankFacts,
  score: (types: string[]) => Promise<{ score?: number; note?: string }>,
): Promise<string[]> {
  const lines: string[] = [];
  let scoreNote: string | undefined;
  for (const g of plan.groups) {
    const families = [...new Set(g.types.map((t) => t.family))];
    const generations = [...new Set(g.types.map((t) => t.generation))].sort((a, b) => a - b);
    const s = await score(g.types.map((t) => t.name));
    if (s.note !== undefined) scoreNote ??= s.note;
    const interrupted = facts.interruptions
      ? `, ${g.types.reduce((n, t) => n + (facts.interruptions?.get(t.name) ?? 0), 0)} interruptions seen`
      : "";
    lines.push(
      `${g.name}: ${g.types.length} types, ${families.length} families (${families.join(" ")}), generations ${generations.join(" ")}${interrupted}${s.score !== undefined ? `, placement score ${s.score}/10` : ""}`,
    );
  }
  if (plan.truncated > 0)
    lines.push(`note: ${plan.truncated} more matching types left out by --max-results`);
  if (scoreNote !== undefined) lines.push(`note: ${scoreNote}`);
  return lines;
}
