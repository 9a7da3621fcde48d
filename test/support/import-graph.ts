/**
 * The project's import graph, read from an esbuild metafile, and a checker for
 * boundary rules over it. Reading the metafile and checking are pure (graph
 * in, violations out), so both are tested against hand-written graphs; only
 * sourceFiles and buildImportGraph touch the file system.
 */
import { readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";

/**
 * How a module is loaded: "static" at load time (an import statement or a
 * require call), "dynamic" when an `import()` runs.
 */
export type ImportKind = "static" | "dynamic";

export interface ImportEdge {
  /** A project file ("src/drain/engine.ts") or a package or built-in ("@aws-sdk/client-sqs", "node:fs"). */
  readonly to: string;
  readonly kind: ImportKind;
  readonly external: boolean;
}

export interface ImportGraph {
  /** Every project file and its imports. Externals are targets only. */
  readonly modules: ReadonlyMap<string, readonly ImportEdge[]>;
  /** Relative imports esbuild could not resolve ("importer: specifier"). */
  readonly unresolved: readonly string[];
}

export type Metainputs = Metafile["inputs"];

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));

/** "node:fs" for a built-in (with or without the prefix), else the package name ("@aws-sdk/client-sqs", "undici"). */
export function externalName(specifier: string): string {
  const bare = specifier.startsWith("node:") ? specifier.slice(5) : specifier;
  const top = bare.split("/")[0] ?? bare;
  if (specifier.startsWith("node:") || BUILTINS.has(bare) || BUILTINS.has(top))
    return `node:${bare}`;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

const KINDS: Readonly<Record<string, ImportKind | undefined>> = {
  "import-statement": "static",
  "require-call": "static",
  "dynamic-import": "dynamic",
};

const UNRESOLVED = "unresolved:";

/** The graph in a metafile's inputs (paths relative to the build's working directory). */
export function graphFromMetafile(inputs: Metainputs): ImportGraph {
  const modules = new Map<string, ImportEdge[]>();
  const unresolved: string[] = [];
  for (const [file, input] of Object.entries(inputs)) {
    const edges: ImportEdge[] = [];
    for (const i of input.imports) {
      const kind = KINDS[i.kind];
      if (kind === undefined) continue;
      if (i.path.startsWith(UNRESOLVED)) {
        unresolved.push(`${file}: ${i.path.slice(UNRESOLVED.length)}`);
        continue;
      }
      const external = i.external === true;
      const to = external ? externalName(i.path) : i.path;
      // `import` and `export ... from` of one module are two entries; one edge is enough.
      if (!edges.some((e) => e.to === to && e.kind === kind)) edges.push({ to, kind, external });
    }
    modules.set(file, edges);
  }
  return { modules, unresolved };
}

// A relative import that does not resolve is recorded (and reported by the
// test) instead of failing the whole build, so the rest of the graph is still
// checked while files are being moved.
const recordUnresolved: Plugin = {
  name: "record-unresolved",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData === UNRESOLVED) return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        with: args.with,
        pluginData: UNRESOLVED,
      });
      if (r.errors.length === 0) return r;
      return { path: `${UNRESOLVED}${args.path}`, external: true };
    });
  },
};

/** Every `.ts` file under `dir` (declaration files aside), relative to `root`. */
export function sourceFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => `${dir}/${f.split("\\").join("/")}`)
    .sort();
}

/** Bundles every file under `dir` (nothing written; packages left external) to read its import graph. */
export async function buildImportGraph(root: string, dir = "src"): Promise<ImportGraph> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: sourceFiles(root, dir),
    bundle: true,
    write: false,
    metafile: true,
    outdir: "/nonexistent/import-graph",
    platform: "node",
    format: "esm",
    target: "node26",
    packages: "external",
    plugins: [recordUnresolved],
    logLevel: "silent",
  });
  return graphFromMetafile(result.metafile.inputs);
}

export interface BoundaryRule {
  readonly name: string;
  /** Why the boundary exists; printed with each violation. */
  readonly why: string;
  /** The importing modules the rule applies to. */
  readonly from: (file: string) => boolean;
  /** A module or package the `from` module must not import (reach, if transitive). */
  readonly forbidden: (target: string, from: string) => boolean;
  /** Follow imports through project modules, not just the `from` module's own. */
  readonly transitive: boolean;
  /** Which imports count; both unless "static". */
  readonly follow?: "static" | "all";
}

export interface Violation {
  readonly rule: string;
  readonly why: string;
  readonly from: string;
  readonly target: string;
  /** from, ..., target; each step after the first tagged with how it was imported. */
  readonly chain: readonly { readonly file: string; readonly kind?: ImportKind }[];
  /** Other modules the rule applies to that reach the target only through `from`. */
  readonly alsoFrom: readonly string[];
}

type Found = Omit<Violation, "alsoFrom">;

/** What one rule finds from one module: each forbidden module it reaches, by its shortest chain. */
function reach(graph: ImportGraph, rule: BoundaryRule, start: string): Found[] {
  const counts = (e: ImportEdge) => rule.follow !== "static" || e.kind === "static";
  // Breadth-first, so each forbidden module is reported with its shortest chain.
  const parent = new Map<string, { via: string; kind: ImportKind } | null>([[start, null]]);
  const queue = [start];
  const found: string[] = [];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const edge of graph.modules.get(file) ?? []) {
      if (!counts(edge) || parent.has(edge.to)) continue;
      parent.set(edge.to, { via: file, kind: edge.kind });
      if (rule.forbidden(edge.to, start)) found.push(edge.to);
      else if (rule.transitive && !edge.external) queue.push(edge.to);
    }
  }
  return found.map((target) => {
    const chain: { file: string; kind?: ImportKind }[] = [];
    for (let at: string | undefined = target; at !== undefined; ) {
      const step = parent.get(at);
      chain.unshift(step ? { file: at, kind: step.kind } : { file: at });
      at = step?.via;
    }
    return { rule: rule.name, why: rule.why, from: start, target, chain };
  });
}

/**
 * Every violation of every rule. A transitive breach is reported once, at
 * the innermost module that breaks the rule: a module whose chain passes
 * through another one the rule applies to (and that reaches the same target)
 * is listed in that one's `alsoFrom` instead of on its own.
 */
export function checkBoundaries(graph: ImportGraph, rules: readonly BoundaryRule[]): Violation[] {
  const violations: Violation[] = [];
  const starts = [...graph.modules.keys()].sort();
  for (const rule of rules) {
    const found = starts.filter((s) => rule.from(s)).flatMap((s) => reach(graph, rule, s));
    const breaks = new Set(found.map((f) => `${f.from}\0${f.target}`));
    const through = (f: Found) =>
      f.chain.slice(1, -1).filter((s) => breaks.has(`${s.file}\0${f.target}`));
    for (const f of found) {
      if (through(f).length > 0) continue;
      const alsoFrom = found
        .filter((o) => o.target === f.target && through(o).some((s) => s.file === f.from))
        .map((o) => o.from);
      violations.push({ ...f, alsoFrom });
    }
  }
  return violations;
}

/** "rule: from -> target" plus the chain when it is longer than one import. */
export function formatViolation(v: Violation): string {
  const head = `[${v.rule}] ${v.from} -> ${v.target}`;
  const chain = v.chain
    .map((s) =>
      s.kind === undefined ? s.file : `${s.kind === "dynamic" ? "=import()=> " : "-> "}${s.file}`,
    )
    .join(" ");
  const shown = v.alsoFrom.slice(0, 3).join(", ");
  const more = v.alsoFrom.length > 3 ? ` and ${v.alsoFrom.length - 3} more` : "";
  const also =
    v.alsoFrom.length === 0 ? "" : `\n    (also reached through it from ${shown}${more})`;
  if (v.chain.length <= 2) return `${head}${also}`;
  return `${head}\n    via ${chain}${also}`;
}
