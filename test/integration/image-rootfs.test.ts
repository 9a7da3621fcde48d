/**
 * The container image's layout, exercised without a container engine: the Dockerfile's steps
 * applied to a directory (scripts/image-rootfs.ts: the bundle, Node 26 from the `node` npm
 * package, the non-root user), then nthd run from it the way a runtime runs the image and the
 * chart's securityContext asks: user 65532, read-only root, a scratch /tmp (test/env/rootfs-run.ts).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { buildRootfs, IMAGE_CONFIG } from "../../scripts/image-rootfs.ts";
import { IMDS_NODE_FLAGS } from "../../src/modes/node-flags.ts";
import {
  createNode,
  freePort,
  ground,
  kubeConfig,
  type MetadataMock,
  randomInstanceId,
  startMetadataMock,
  waitNodeReady,
} from "../env/ground.ts";
import { eventually } from "../env/nthd-process.ts";
import { runInRootfs, spawnInRootfs } from "../env/rootfs-run.ts";

const REPO = join(new URL(".", import.meta.url).pathname, "..", "..");
const [NODE, ENTRY] = IMAGE_CONFIG.entrypoint;
const skip =
  process.getuid?.() !== 0 ? "needs root (unshare and chroot), as the test ground has" : false;

let dir = "";
let root = "";

before(() => {
  if (skip) return;
  execFileSync(process.execPath, ["scripts/build.ts"], { cwd: REPO, stdio: "ignore" });
  dir = mkdtempSync(join(tmpdir(), "nthd-image-"));
  root = join(dir, "rootfs");
  buildRootfs(root);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the image's root file system, run without an engine", { skip }, () => {
  test("the Dockerfile's layout: bundle in /app owned by 65532, node 26, the nonroot user", () => {
    assert.ok(existsSync(join(root, "app", "nthd.mjs")));
    assert.equal(statSync(join(root, "app", "nthd.mjs")).uid, 65532);
    const maps = execFileSync("find", [join(root, "app"), "-name", "*.map"], { encoding: "utf8" });
    assert.equal(maps.trim(), "", "no source maps in the image");
    assert.match(readFileSync(join(root, "etc", "passwd"), "utf8"), /^nonroot:x:65532:65532:/m);
    assert.equal(statSync(join(root, "nodejs", "bin", "node")).mode & 0o111, 0o111);
  });

  test("as 65532 with a read-only root: the entrypoint runs, nothing can be written but /tmp", async () => {
    const version = await runInRootfs(root, [NODE as string, ENTRY as string, "--version"]);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^nthd \d+\.\d+\.\d+\n$/);
    const probe = await runInRootfs(root, [
      NODE as string,
      "-e",
      `const fs = require("node:fs");
       const code = (f) => { try { f(); return "ok"; } catch (e) { return e.code; } };
       console.log(JSON.stringify({
         uid: process.getuid(), gid: process.getgid(), version: process.version,
         app: code(() => fs.writeFileSync("/app/x", "")),
         root: code(() => fs.writeFileSync("/x", "")),
         tmp: code(() => fs.writeFileSync("/tmp/x", "")),
       }));`,
    ]);
    assert.equal(probe.code, 0, probe.stderr);
    const facts = JSON.parse(probe.stdout) as Record<string, unknown>;
    assert.deepEqual(
      { ...facts, version: String(facts.version).split(".")[0] },
      { uid: 65532, gid: 65532, version: "v26", app: "EROFS", root: "EROFS", tmp: "ok" },
    );
  });

  describe("IMDS mode from the image against the ground", () => {
    const nodeName = `image-${Math.random().toString(36).slice(2, 8)}`;
    let mock: MetadataMock;
    before(async () => {
      await createNode({ name: nodeName, instanceId: randomInstanceId() });
      await waitNodeReady(nodeName);
      mock = await startMetadataMock(["spot", "-d", "3600"]);
    });
    after(async () => {
      await mock?.stop();
      await kubeConfig()
        .makeApiClient(CoreV1Api)
        .deleteNode({ name: nodeName })
        .catch(() => {});
    });

    test("ready as 65532 on a read-only root, with IMDS mode's node flags, and stops on SIGTERM", async () => {
      // The kubeconfig as a mounted Secret would be: readable by the pod's user, read-only.
      const config = join(dir, "config");
      execFileSync("mkdir", ["-p", config]);
      writeFileSync(join(config, "kubeconfig"), readFileSync(ground().kubeconfig), { mode: 0o644 });
      const port = await freePort();
      const child = spawnInRootfs(root, [...IMAGE_CONFIG.entrypoint], {
        env: {
          ...IMAGE_CONFIG.env,
          NODE_NAME: nodeName,
          KUBECONFIG: "/config/kubeconfig",
          INSTANCE_METADATA_URL: mock.url,
          ENABLE_PROBES_SERVER: "true",
          PROBES_SERVER_PORT: String(port),
          NTHD_BIND_ADDRESS: "127.0.0.1",
        },
        binds: [{ host: config, at: "/config" }],
      });
      let output = "";
      child.stdout?.on("data", (d: Buffer) => {
        output += d.toString();
      });
      child.stderr?.on("data", (d: Buffer) => {
        output += d.toString();
      });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      try {
        await eventually(
          "readiness",
          async () =>
            (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok
              ? true
              : undefined,
          60_000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${output}`);
        });
        const pid = child.pid as number;
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        assert.equal(cmdline[0], NODE);
        for (const flag of IMDS_NODE_FLAGS) assert.ok(cmdline.includes(flag), flag);
        assert.ok(cmdline.includes(ENTRY as string));
      } finally {
        child.kill("SIGTERM");
      }
      assert.equal(await exited, 0, output);
    });
  });
});
