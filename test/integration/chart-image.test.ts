// The container image without a Docker engine: the Dockerfile is checked against the rules
// the image must keep (a hadolint-style review in code), and the one file it ships, the
// esbuild bundle, is run from an empty directory with nothing but Node.js, as in the image.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

const root = join(new URL(".", import.meta.url).pathname, "..", "..");
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const dockerignore = readFileSync(join(root, ".dockerignore"), "utf8");

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n(\s*#.*\n)*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [op = "", ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

describe("Dockerfile rules", () => {
  const all = instructions(dockerfile);
  const stages = all.filter((i) => i.op === "FROM");
  const lastFrom = all.map((i) => i.op).lastIndexOf("FROM");
  const final = all.slice(lastFrom);

  test("multi-stage: a Node 26 build stage and a separate runtime stage", () => {
    assert.equal(stages.length, 2);
    assert.match(dockerfile, /ARG NODE_BUILD_IMAGE=node:26-slim/);
    assert.match(dockerfile, /ARG RUNTIME_IMAGE=gcr\.io\/distroless\/nodejs26-debian13:nonroot/);
    assert.match(stages[0]?.args ?? "", /--platform=\$BUILDPLATFORM .* AS build$/);
  });

  test("the build runs npm ci and the bundle script", () => {
    const runs = all.filter((i) => i.op === "RUN").map((i) => i.args);
    assert.ok(runs.some((r) => r.startsWith("npm ci")));
    assert.ok(runs.some((r) => r.startsWith("npm run build")));
  });

  test("the runtime stage copies only the bundle, runs as 65532, exec-form entrypoint", () => {
    const copies = final.filter((i) => i.op === "COPY").map((i) => i.args);
    assert.deepEqual(copies, ["--from=build --chown=65532:65532 /out/ /app/"]);
    assert.equal(final.find((i) => i.op === "USER")?.args, "65532:65532");
    const entrypoint = final.find((i) => i.op === "ENTRYPOINT")?.args ?? "";
    assert.deepEqual(JSON.parse(entrypoint), ["/nodejs/bin/node", "/app/nthd.mjs"]);
    assert.equal(
      final.some((i) => i.op === "RUN"),
      false,
      "no RUN in the shell-less runtime stage",
    );
  });

  test("no ADD, no latest tags, OCI labels present", () => {
    assert.equal(
      all.some((i) => i.op === "ADD"),
      false,
    );
    assert.doesNotMatch(dockerfile, /:latest\b/);
    for (const label of ["title", "version", "revision", "licenses", "description"]) {
      assert.match(dockerfile, new RegExp(`org\\.opencontainers\\.image\\.${label}=`));
    }
  });

  test("no source maps shipped", () => {
    // The build writes maps beside the code without pointers to them; the image drops them.
    assert.match(dockerfile, /find \/out -name '\*\.map' -delete/);
  });

  test(".dockerignore sends only what the build stage copies", () => {
    const lines = dockerignore.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    assert.equal(lines[0], "*");
    assert.deepEqual(lines.slice(1).sort(), [
      "!package-lock.json",
      "!package.json",
      "!scripts/",
      "!src/",
      "!tsconfig.json",
    ]);
  });
});

describe("the bundle runs with only the Node.js runtime", () => {
  test("built, its code copied alone into an empty directory, it starts and reports its version", () => {
    const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, encoding: "utf8" });
    assert.equal(build.status, 0, build.stderr);
    const dir = mkdtempSync(join(tmpdir(), "nthd-image-"));
    try {
      // What the image's build stage copies: the entry file and its chunks, no maps.
      cpSync(join(root, "dist"), dir, {
        recursive: true,
        filter: (src) => !src.endsWith(".map"),
      });
      const code = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
        f.endsWith(".mjs"),
      );
      assert.ok(code.length > 1, `entry file and chunks: ${code.join(", ")}`);
      for (const file of code) {
        assert.doesNotMatch(readFileSync(join(dir, file), "utf8"), /sourceMappingURL/, file);
      }
      const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
        version: string;
      };
      const run = spawnSync(process.execPath, [join(dir, "nthd.mjs"), "--version"], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: "/usr/bin:/bin", NODE_ENV: "production" },
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.trim(), `nthd ${pkg.version}`);
      const help = spawnSync(process.execPath, [join(dir, "nthd.mjs"), "--help"], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: "/usr/bin:/bin" },
      });
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /QUEUE_URL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
