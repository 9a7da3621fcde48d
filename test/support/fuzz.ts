/**
 * What the property-based tests (test/unit/fuzz-*.test.ts) share: how many
 * cases to run, inputs generated from scratch, inputs mutated from the
 * fixtures, and a timer that holds every case to 50 ms.
 *
 * NTHD_FUZZ_RUNS sets the runs per property: the normal test run uses a
 * short default, `npm run fuzz` a long one (over 1,000,000 cases in all).
 * NTHD_FUZZ_SEED replays a run (fast-check prints the seed of a failure).
 */
import fc from "fast-check";
import { isInstanceId } from "../../src/aws-ids.ts";
import { NOTICE_ACTIONS, NOTICE_KINDS } from "../../src/notice.ts";

/** Runs per property. */
export function fuzzRuns(normal = 200): number {
  const raw = process.env.NTHD_FUZZ_RUNS;
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : normal;
}

/** fast-check parameters for one property. */
export function fuzzParams<T = unknown>(normal?: number): fc.Parameters<T> {
  const seed = Number(process.env.NTHD_FUZZ_SEED);
  return {
    numRuns: fuzzRuns(normal),
    ...(Number.isInteger(seed) ? { seed } : {}),
    // A failing case is shrunk for the report; keep that bounded.
    // Shrinking a megabyte counterexample takes minutes and tells little more.
    endOnFailure: true,
    interruptAfterTimeLimit: undefined,
  };
}

/** The limit every single case must meet, in CPU time of the thread that runs it. */
export const CASE_LIMIT_MS = 50;

/** CPU time of this thread, in ms: what a case costs nthd's event loop, whatever else the machine runs. */
function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Times each case of a property and keeps the slowest. The time is the
 * thread's CPU time, not the wall clock: on a shared machine a case may wait
 * for a core, which says nothing about what it costs. A case over the limit
 * is timed three more times (a collection may fall into any one call), and
 * only a case that is slow every time fails.
 */
export class CaseTimer {
  cases = 0;
  slowestMs = 0;
  slowestWallMs = 0;
  slowestInput = "";

  /** Runs `fn(input)`, returns its result; throws when the case is slow every time. */
  run<I, R>(input: I, fn: (input: I) => R): R {
    this.cases++;
    const measure = (): [R, number, number] => {
      const wall = performance.now();
      const cpu = threadCpuMs();
      const result = fn(input);
      return [result, threadCpuMs() - cpu, performance.now() - wall];
    };
    let [result, ms, wallMs] = measure();
    for (let i = 0; i < 3 && ms > CASE_LIMIT_MS; i++) {
      const again = measure();
      if (again[1] < ms) [result, ms, wallMs] = again;
    }
    if (ms > CASE_LIMIT_MS) {
      throw new Error(
        `case took ${ms.toFixed(1)} ms of CPU (limit ${CASE_LIMIT_MS}): ${describe(input)}`,
      );
    }
    if (ms > this.slowestMs) {
      this.slowestMs = ms;
      this.slowestWallMs = wallMs;
      this.slowestInput = describe(input);
    }
    return result;
  }

  /** One line for the test's diagnostics and `npm run fuzz`. */
  summary(name: string): string {
    return `fuzz ${name}: cases=${this.cases} slowest=${this.slowestMs.toFixed(2)}ms cpu (${this.slowestWallMs.toFixed(2)}ms wall) ${this.slowestInput}`;
  }
}

/**
 * fc.assert, with a failure report that stays readable: fast-check prints
 * the whole counterexample, and some are a megabyte long.
 */
export function assertProperty<T>(property: fc.IProperty<T>, params: fc.Parameters<T>): void {
  const out = fc.check(property, params);
  if (!out.failed) return;
  const example = out.counterexample === null ? "?" : describe(out.counterexample);
  const cause =
    out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(
    `property failed after ${out.numRuns} cases (seed ${out.seed}, path ${out.counterexamplePath}; replay with NTHD_FUZZ_SEED=${out.seed}):\n${cause}\ncounterexample: ${example}`,
  );
}

function describe(input: unknown): string {
  let text: string;
  try {
    text = typeof input === "string" ? input : (JSON.stringify(input) ?? String(input));
  } catch {
    text = String(input);
  }
  return text.length > 120
    ? `${JSON.stringify(text.slice(0, 100))}… (${text.length} chars)`
    : JSON.stringify(text);
}

// --- generated from scratch ---------------------------------------------------

/** Strings that break naive code: controls, lone surrogates, direction marks, BOM, long runs. */
export const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "\udfff",
  "a\ud83dz",
  "\u200f\u202e",
  "\ufeff",
  "\uffff",
  "i\u0307\u0301\u0301",
  "\u{1d4f2}-\u{1d7ed}\u{1d7ee}",
  "é".normalize("NFD"),
  "<html><body>",
  "null",
  "0",
  "-1",
  "1e309",
  "NaN",
  "true",
  "{}",
  "[]",
  '{"Type":"Notification","Message":"{}"}',
  "yyyy-mm-ddThh:mm:ssZ",
  "2025-02-30T10:00:00Z",
  "i-1234567890abcdef0",
  "i-XYZ",
  "arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0",
] as const;

/** Any string: odd ones, short unicode, or a long run (up to 200 000 characters). */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 5, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("x", "\ud800", "é", "{", "["), fc.integer({ min: 1, max: 200_000 }))
      .map(([c, n]) => c.repeat(n)),
  },
);

/** Keys the parsers look for, so generated objects sometimes look like AWS events. */
const KEYS = [
  "Type",
  "Message",
  "source",
  "detail-type",
  "detail",
  "id",
  "time",
  "resources",
  "instance-id",
  "state",
  "LifecycleTransition",
  "LifecycleActionToken",
  "EC2InstanceId",
  "AutoScalingGroupName",
  "LifecycleHookName",
  "Event",
  "service",
  "eventTypeCategory",
  "affectedEntities",
  "action",
  "noticeTime",
  "EventId",
  "State",
  "Code",
  "NotBefore",
] as const;

/** Any JSON value, with odd strings among the leaves. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    anyString,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.oneof(anyString, fc.constantFrom(...KEYS)), tie("value"), { maxKeys: 6 }),
  ),
})).value;

// --- mutated from fixtures ---------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/**
 * Paths to the values inside `doc`, the root included, down to 40 levels
 * (a "nest" mutation may have made it far deeper; its inside needs no more
 * mutations).
 */
function paths(doc: Json): Path[] {
  const out: Path[] = [];
  const stack: [Json, Path][] = [[doc, []]];
  while (stack.length > 0) {
    const [value, at] = stack.pop() as [Json, Path];
    out.push(at);
    if (at.length >= 40) continue;
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) stack.push([v, [...at, i]]);
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) stack.push([v, [...at, k]]);
    }
  }
  return out;
}

function setAt(doc: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? null : value;
  const [head, ...rest] = path as [string | number, ...Path];
  if (Array.isArray(doc)) {
    const copy = [...doc];
    if (rest.length === 0 && value === undefined) copy.splice(head as number, 1);
    else copy[head as number] = setAt(copy[head as number] as Json, rest, value);
    return copy;
  }
  if (doc !== null && typeof doc === "object") {
    const copy = { ...doc };
    if (rest.length === 0 && value === undefined) delete copy[head as string];
    else copy[head as string] = setAt(copy[head as string] as Json, rest, value);
    return copy;
  }
  return doc;
}

function getAt(doc: Json, path: Path): Json {
  let v: Json = doc;
  for (const p of path) v = (v as Record<string | number, Json>)?.[p] ?? null;
  return v;
}

/** One change to a JSON document; `pick` chooses the path among all of them. */
export type Mutation =
  | { op: "drop"; pick: number }
  | { op: "replace"; pick: number; value: unknown }
  | { op: "nest"; pick: number; depth: number }
  | { op: "huge"; pick: number; size: number }
  | { op: "sns"; times: number }
  | { op: "stringify"; pick: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("drop" as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("replace" as const),
      pick: fc.nat(),
      value: fc.oneof(anyJson, fc.constantFrom(...ODD_STRINGS)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("nest" as const),
      pick: fc.nat(),
      depth: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1_000, max: 20_000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("huge" as const),
      pick: fc.nat(),
      // Mostly tens of kilobytes; now and then past the 1 MiB body limit.
      size: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1_000, max: 100_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 1_100_000 }) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("sns" as const),
      times: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("stringify" as const), pick: fc.nat() }) },
);

/** Applies one mutation to a parsed document. */
export function mutate(doc: Json, m: Mutation): Json {
  if (m.op === "sns") {
    let out = doc;
    for (let i = 0; i < m.times; i++) {
      out = { Type: "Notification", MessageId: `m-${i}`, Message: JSON.stringify(out) };
    }
    return out;
  }
  const all = paths(doc);
  const path = all[m.pick % all.length] as Path;
  switch (m.op) {
    case "drop":
      return setAt(doc, path, undefined);
    case "replace":
      return setAt(doc, path, m.value as Json);
    case "nest":
      // Written into the text after stringifying (see nested()): a document
      // thousands of levels deep would overflow the helpers' own stack.
      return setAt(doc, path, `${NEST_MARK}${m.depth}${NEST_MARK}`);
    case "huge":
      return setAt(doc, path, "x".repeat(m.size));
    case "stringify":
      // A value where an object was: the JSON of it, as a string.
      return setAt(doc, path, JSON.stringify(getAt(doc, path)) ?? "");
  }
}

const NEST_MARK = "\u0001nest\u0001";
const NEST_MARKED = /"\\u0001nest\\u0001(\d+)\\u0001nest\\u0001"/g;

/** `depth` levels of arrays and objects, alternating, around a value. */
function nested(depth: number): string {
  let open = "";
  let close = "";
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? "[" : '{"v":';
    close = (i % 2 === 0 ? "]" : "}") + close;
  }
  return `${open}1${close}`;
}

/** A body from a fixture: JSON ones mutated as documents, all of them also cut or spliced as text. */
export function mutatedBody(fixtures: readonly string[]): fc.Arbitrary<string> {
  const asDocument = fc
    .tuple(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 5 }))
    .map(([text, ms]) => {
      let doc: Json;
      try {
        doc = JSON.parse(text) as Json;
      } catch {
        return text; // a text fixture: left to the text mutations
      }
      for (const m of ms) doc = mutate(doc, m);
      return JSON.stringify(doc).replace(NEST_MARKED, (_, depth: string) => nested(Number(depth)));
    });
  const asText = fc
    .tuple(fc.constantFrom(...fixtures), fc.nat(), fc.nat(), anyString)
    .map(([text, a, b, insert]) => {
      const i = a % (text.length + 1);
      const j = i + (b % 20);
      return text.slice(0, i) + insert + text.slice(j);
    });
  return fc.oneof({ weight: 4, arbitrary: asDocument }, { weight: 1, arbitrary: asText });
}

// --- what every parser result must be ----------------------------------------------

/** The three answers a parser may give, as one word for tallies. */
export type Answer = "handle" | "ignore" | "error";

/**
 * Checks a parser's result is one of handle / ignore / error and well formed:
 * notices with a known kind and action, a valid instance id, dates that are
 * dates; reasons that are non-empty text. Returns the answer, throws what is wrong.
 */
export function checkParsed(
  p: unknown,
  expect: { source: "queue" | "imds"; instanceId?: string },
): Answer {
  const r = p as Record<string, unknown>;
  if (r.ok === true) {
    const notices = r.notices as Record<string, unknown>[];
    if (!Array.isArray(notices) || notices.length === 0) throw new Error("handle without notices");
    if (typeof r.description !== "string" || r.description === "") {
      throw new Error("handle without a description");
    }
    for (const n of notices) {
      if (!(NOTICE_KINDS as readonly unknown[]).includes(n.kind)) throw new Error(`kind ${n.kind}`);
      if (!(NOTICE_ACTIONS as readonly unknown[]).includes(n.action)) {
        throw new Error(`action ${n.action}`);
      }
      if (!isInstanceId(n.instanceId)) throw new Error(`instance id ${String(n.instanceId)}`);
      if (expect.instanceId !== undefined && n.instanceId !== expect.instanceId) {
        throw new Error("notice for another instance");
      }
      if (typeof n.id !== "string" || n.id === "") throw new Error("notice without id");
      if (n.source !== expect.source) throw new Error(`source ${n.source}`);
      for (const key of ["deadline", "eventTime", "receivedAt"]) {
        const d = n[key];
        if (d !== undefined && !(d instanceof Date && Number.isFinite(d.getTime()))) {
          throw new Error(`${key} is not a date`);
        }
      }
    }
    return "handle";
  }
  if (r.ok !== false) throw new Error("result without ok");
  const ignore = typeof r.ignore === "string" && r.ignore !== "";
  const error = typeof r.error === "string" && r.error !== "";
  if (ignore === error) throw new Error("exactly one of ignore and error must be a reason");
  return ignore ? "ignore" : "error";
}

/** Counts answers, to show the fuzzing reached all three. */
export class Tally {
  readonly counts: Record<Answer, number> = { handle: 0, ignore: 0, error: 0 };
  add(a: Answer): void {
    this.counts[a]++;
  }
  toString(): string {
    return `handle=${this.counts.handle} ignore=${this.counts.ignore} error=${this.counts.error}`;
  }
}
