/**
 * What the property-based tests (test/unit/fuzz-*.test.ts) share: how many
 * cases to run, a timer that holds every case to 50 ms, a readable failure
 * report, and what every parser's answer must be. Their inputs are in
 * fuzz-inputs.ts.
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
