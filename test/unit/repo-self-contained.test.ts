/**
 * A fresh clone must build and pass its tests on its own: no file of the
 * repository may point at a path outside it (a fixture folder next to the
 * checkout, a developer's home, the machine it was first written on).
 *
 * Scanned: every tracked file plus every untracked file git does not ignore
 * (so a new file is caught before it is committed). Binary files are skipped.
 *
 * Rules, one per kind of escape:
 *  - sibling-shared: a relative path into a `shared` folder one or more levels
 *    up. Fixtures used to live there; they are now in test/fixtures/.
 *  - machine-path: an absolute path under the work, root or home top-level
 *    folders, where checkouts and personal files live. Only those three roots
 *    are flagged: system and container paths (etc, proc, sys, the service
 *    account mount under var/run/secrets, the image's app folder) are
 *    legitimate runtime paths, and `~/.cache/nthd`-style paths name the
 *    user's own home without depending on this machine. A root preceded by a
 *    word character, dot, tilde or dash is part of something else (a URL
 *    path, `~/`-relative path, a longer folder name) and is not flagged.
 *  - climbs-out: a quoted string (import specifier, readFile / new URL
 *    argument, JSON value) or a Markdown link target that starts with a chain
 *    of `../` and, resolved from the folder of the file that holds it, ends up
 *    above the repository root. Chains that stay inside (`../../src/x.ts`) are
 *    fine.
 *  - symlink-out: a tracked symlink whose target is outside the repository.
 *
 * The patterns below are written so that this file does not match them itself
 * (escaped slashes, no literal offending path in comments or strings).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, posix, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Finding {
  file: string;
  line: number;
  rule: string;
  text: string;
}

const SIBLING_SHARED = /(?:\.\.\/)+shared(?:\/|\b)/;
const MACHINE_PATH = /(?<![\w.~-])\/(?:work|root|home)\//;
/** A quote or Markdown link opener, then an optional `./`, then `../` at least once. */
const RELATIVE_CHAIN = /(?<=["'`]|\]\()(?:\.\/)?(?:\.\.\/)+[^"'`)\s]*/g;

/** True when `target`, read relative to the folder `dir` (relative to the root), leaves the root. */
function climbsOut(dir: string, target: string): boolean {
  // Only the literal prefix counts: `${...}` in a template is unknown.
  const literal = target.split("${")[0] ?? "";
  const joined = posix.normalize(posix.join(dir === "" ? "." : dir, literal));
  return joined === ".." || joined.startsWith("../");
}

/** Findings for one file's text; `file` is relative to the repository root, with `/`. */
export function scanText(file: string, text: string): Finding[] {
  const dir = posix.dirname(file) === "." ? "" : posix.dirname(file);
  const findings: Finding[] = [];
  text.split("\n").forEach((content, i) => {
    const at = (rule: string) => findings.push({ file, line: i + 1, rule, text: content.trim() });
    if (SIBLING_SHARED.test(content)) at("sibling-shared");
    if (MACHINE_PATH.test(content)) at("machine-path");
    for (const match of content.matchAll(RELATIVE_CHAIN)) {
      if (climbsOut(dir, match[0])) {
        at("climbs-out");
        break;
      }
    }
  });
  return findings;
}

function repoFiles(): string[] {
  const list = (...args: string[]) =>
    execFileSync("git", ["ls-files", "-z", ...args], { cwd: ROOT, encoding: "utf8" })
      .split("\0")
      .filter((f) => f !== "");
  return [...new Set([...list(), ...list("--others", "--exclude-standard")])].sort();
}

function scanRepository(): Finding[] {
  const findings: Finding[] = [];
  for (const file of repoFiles()) {
    const full = resolve(ROOT, file);
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(full);
    } catch {
      continue; // Deleted in the working tree, not yet committed.
    }
    if (stat.isSymbolicLink()) {
      const target = resolve(dirname(full), readlinkSync(full));
      if (relative(ROOT, target).startsWith("..")) {
        findings.push({ file, line: 0, rule: "symlink-out", text: readlinkSync(full) });
      }
      continue;
    }
    if (!stat.isFile()) continue;
    const bytes = readFileSync(full);
    if (bytes.includes(0)) continue; // Binary.
    findings.push(...scanText(file, bytes.toString("utf8")));
  }
  return findings;
}

const show = (f: Finding) => `${f.file}:${f.line} [${f.rule}] ${f.text}`;

describe("repository is self-contained", () => {
  it("no file points outside the repository", () => {
    const findings = scanRepository().map(show);
    assert.deepEqual(findings, [], `paths outside the repository:\n${findings.join("\n")}`);
  });

  // The rules themselves, on made-up lines (assembled so this file stays clean).
  const up = (n: number) => "../".repeat(n);
  const q = (s: string) => `"${s}"`;

  it("flags a sibling shared folder, machine paths and chains above the root", () => {
    const cases: [string, string, ...string[]][] = [
      [
        "test/unit/a.test.ts",
        `new URL(${q(`${up(3)}shared/x.json`)}, import.meta.url)`,
        "sibling-shared",
        "climbs-out",
      ],
      ["a/b/c/notes.md", `kept in ${up(1)}shared/fixtures`, "sibling-shared"],
      ["test/unit/a.test.ts", `const F = ${q(`/${"work"}/data/x.json`)};`, "machine-path"],
      ["scripts/a.sh", `cp x /${"root"}/bin`, "machine-path"],
      ["docs/a.md", `see /${"home"}/someone/notes`, "machine-path"],
      ["test/unit/a.test.ts", `import x from ${q(`${up(3)}other/x.ts`)};`, "climbs-out"],
      ["a.ts", `readFileSync(${q(`${up(1)}x`)})`, "climbs-out"],
      ["docs/a.md", `[spec](${up(2)}spec.md)`, "climbs-out"],
      ["test/unit/a.test.ts", `readFileSync(\`./${up(3)}x/\${name}\`)`, "climbs-out"],
    ];
    for (const [file, line, ...rules] of cases) {
      const found = scanText(file, line);
      assert.deepEqual(
        found.map((f) => f.rule),
        rules,
        `${file}: ${line}`,
      );
      assert.ok(found.every((f) => f.file === file && f.line === 1));
    }
  });

  it("leaves legitimate paths alone", () => {
    const clean: [string, string][] = [
      ["test/unit/a.test.ts", `import x from ${q(`${up(2)}src/x.ts`)};`],
      ["test/unit/a.test.ts", `new URL(${q(up(2))}, import.meta.url)`],
      ["test/fixtures/select/load.ts", `import r from ${q(`${up(3)}src/records.ts`)};`],
      ["docs/a.md", `[readme](${up(1)}README.md)`],
      ["README.md", "results are cached in `~/.cache/nthd`"],
      ["Dockerfile", "COPY --from=build /app/dist /app"],
      ["charts/nthd/templates/d.yaml", "mountPath: /var/run/secrets/eks.amazonaws.com"],
      ["src/a.ts", `readFileSync(${q("/proc/self/cgroup")}); ${q("/etc/hosts")}`],
      ["docs/a.md", "https://example.com/home/page and github.com/root/repo"],
      ["src/a.ts", `const p = ${q("./x/../y")};`],
    ];
    for (const [file, line] of clean) {
      assert.deepEqual(scanText(file, line), [], `${file}: ${line}`);
    }
  });
});
