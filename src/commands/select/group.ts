/**
 * Ranking and grouping. Groups never share a family: a capacity shortage in
 * one family (often all its sizes at once, since they share hardware) then
 * hits one group, and the others keep scaling. Within a group, types are
 * ranked so that truncating to --max-results keeps the best and the most
 * varied ones.
 */
import type { InstanceTypeRecord } from "./records.ts";

export interface RankFacts {
  /** Interruptions per instance type over the look-back window (from nthd's metrics). */
  readonly interruptions?: ReadonlyMap<string, number> | undefined;
  /** Current Spot price per vCPU-hour, averaged over the zones (DescribeSpotPriceHistory). */
  readonly spotPricePerVcpu?: ReadonlyMap<string, number> | undefined;
}

/**
 * Best first: fewest interruptions (when known; unknown counts as none), then
 * newer generation (better price-performance, usually deeper pools), then
 * lower Spot price per vCPU (when known), then name for a stable order.
 */
export function rank(
  records: readonly InstanceTypeRecord[],
  facts: RankFacts = {},
): InstanceTypeRecord[] {
  const interrupted = (r: InstanceTypeRecord): number => facts.interruptions?.get(r.name) ?? 0;
  const price = (r: InstanceTypeRecord): number =>
    facts.spotPricePerVcpu?.get(r.name) ?? Number.POSITIVE_INFINITY;
  return [...records].sort((a, b) => {
    const byInterruptions = interrupted(a) - interrupted(b);
    if (byInterruptions !== 0) return byInterruptions;
    if (a.generation !== b.generation) return b.generation - a.generation;
    const pa = price(a);
    const pb = price(b);
    if (pa !== pb) return pa < pb ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/**
 * At most `max` of the ranked types, trimming sizes before families and
 * families before generations: each family's best type comes before any
 * family's second, and within that, the best family of each generation comes
 * before a generation's second family. Different generations run on different
 * hardware, so they are the most independent pools. Types with more
 * interruptions (when known) still come after all types with fewer. The
 * result keeps rank order.
 */
export function pickDiverse(
  ranked: readonly InstanceTypeRecord[],
  max: number,
  facts: RankFacts = {},
): InstanceTypeRecord[] {
  const perFamily = new Map<string, number>();
  const familiesPerGeneration = new Map<number, string[]>();
  const keyed = ranked.map((r, position) => {
    const familyTier = perFamily.get(r.family) ?? 0;
    perFamily.set(r.family, familyTier + 1);
    const seen = familiesPerGeneration.get(r.generation) ?? [];
    if (!seen.includes(r.family)) seen.push(r.family);
    familiesPerGeneration.set(r.generation, seen);
    const generationTier = seen.indexOf(r.family);
    const interruptions = facts.interruptions?.get(r.name) ?? 0;
    return { r, key: [interruptions, familyTier, generationTier, position] };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const d = (a.key[i] as number) - (b.key[i] as number);
      if (d !== 0) return d;
    }
    return 0;
  });
  const chosen = new Set(keyed.slice(0, max).map((k) => k.r));
  return ranked.filter((r) => chosen.has(r));
}

export type GroupResult =
  | { readonly ok: true; readonly groups: InstanceTypeRecord[][] }
  | { readonly ok: false; readonly message: string };

/**
 * Splits types into `count` groups with disjoint families. Families are dealt
 * oldest generation first, each to the group holding the fewest types so far,
 * so every group gets a share of every generation and the sizes stay even.
 */
export function groupByFamily(records: readonly InstanceTypeRecord[], count: number): GroupResult {
  const byFamily = new Map<string, InstanceTypeRecord[]>();
  for (const r of records) {
    const list = byFamily.get(r.family);
    if (list === undefined) byFamily.set(r.family, [r]);
    else list.push(r);
  }
  const families = [...byFamily.entries()].sort(([fa, [a]], [fb, [b]]) => {
    const ga = a?.generation ?? 0;
    const gb = b?.generation ?? 0;
    if (ga !== gb) return ga - gb;
    const ma = a?.manufacturer ?? "";
    const mb = b?.manufacturer ?? "";
    if (ma !== mb) return ma < mb ? -1 : 1;
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  });
  if (families.length < count) {
    const names = families.map(([f]) => f).join(", ");
    return {
      ok: false,
      message: `--ig-count ${count} needs at least ${count} instance families (groups share none), but only ${families.length} match: ${names}`,
    };
  }
  const groups: InstanceTypeRecord[][] = Array.from({ length: count }, () => []);
  const familyCount = new Array<number>(count).fill(0);
  for (const [, types] of families) {
    let target = 0;
    for (let i = 1; i < count; i++) {
      const gi = groups[i] as InstanceTypeRecord[];
      const gt = groups[target] as InstanceTypeRecord[];
      if (
        gi.length < gt.length ||
        (gi.length === gt.length && (familyCount[i] as number) < (familyCount[target] as number))
      ) {
        target = i;
      }
    }
    (groups[target] as InstanceTypeRecord[]).push(...types);
    familyCount[target] = (familyCount[target] as number) + 1;
  }
  return { ok: true, groups };
}
