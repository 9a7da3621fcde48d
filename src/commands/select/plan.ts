/**
 * The pure core of `nthd select`: records + options (+ facts read from AWS
 * and Prometheus) → named groups of ranked instance types, or an error that
 * says which requirement could not be met. No I/O.
 */
import { applyFilters, describeNoMatch, type FilterStep } from "./filters.ts";
import { groupByFamily, pickDiverse, type RankFacts, rank } from "./group.ts";
import type { SelectOptions } from "./options.ts";
import type { InstanceTypeRecord } from "./records.ts";
import { buildFilters, type Zones } from "./requirements.ts";

export interface PlannedGroup {
  readonly name: string;
  /** Ranked best first; the first is the group's nominal machine type. */
  readonly types: readonly InstanceTypeRecord[];
}

export interface Plan {
  readonly groups: readonly PlannedGroup[];
  readonly steps: readonly FilterStep[];
  /** Matching types left out by --max-results, over all groups. */
  readonly truncated: number;
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; message: string };

/** kOps's naming: NAME alone for one group, NAME1..NAMEn for several. */
export function groupName(name: string, index: number, count: number): string {
  return count === 1 ? name : `${name}${index + 1}`;
}

export type CandidatesResult =
  | { ok: true; candidates: readonly InstanceTypeRecord[]; steps: readonly FilterStep[] }
  | { ok: false; message: string };

/** The types that meet every requirement (before grouping and ranking). */
export function selectCandidates(
  options: SelectOptions,
  records: readonly InstanceTypeRecord[],
  zones?: Zones,
): CandidatesResult {
  const built = buildFilters(options, records, zones);
  if (!built.ok) return built;
  const filtered = applyFilters(records, built.filters);
  if (!filtered.ok) return { ok: false, message: describeNoMatch(filtered) };
  return { ok: true, candidates: filtered.kept, steps: filtered.steps };
}

export function planSelection(
  options: SelectOptions,
  records: readonly InstanceTypeRecord[],
  facts: RankFacts = {},
  zones?: Zones,
): PlanResult {
  const selected = selectCandidates(options, records, zones);
  if (!selected.ok) return selected;
  const grouped = groupByFamily(selected.candidates, options.igCount);
  if (!grouped.ok) return grouped;
  let truncated = 0;
  const groups = grouped.groups.map((types, i) => {
    const picked = pickDiverse(rank(types, facts), options.maxResults, facts);
    truncated += types.length - picked.length;
    return { name: groupName(options.name, i, options.igCount), types: picked };
  });
  return { ok: true, plan: { groups, steps: selected.steps, truncated } };
}
