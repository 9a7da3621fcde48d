/**
 * Inputs for the property-based tests (test/unit/fuzz-*.test.ts): generated
 * from scratch (odd strings, any JSON with the keys the parsers look for)
 * and mutated from fixtures (keys dropped, wrong types, huge strings, deep
 * nesting, values stringified, SNS wrapping, text cut and spliced).
 */
import fc from "fast-check";

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
