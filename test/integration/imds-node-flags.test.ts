// IMDS mode started the way kOps' own manifest starts the image (node and the entry file, no
// flags): the process replaces itself with one that has IMDS mode's V8 memory flags, keeping its
// PID, and then runs as usual.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
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
import { eventually, startNthd } from "../env/nthd-process.ts";

const nodeName = `imds-flags-${Math.random().toString(36).slice(2, 8)}`;

describe("IMDS mode's memory flags without the chart's command", () => {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  let mock: MetadataMock;
  before(async () => {
    await createNode({ name: nodeName, instanceId: randomInstanceId() });
    await waitNodeReady(nodeName);
    mock = await startMetadataMock(["spot", "-d", "3600"]);
  });
  after(async () => {
    await mock?.stop();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
  });

  test("the same process re-executes with every flag and becomes ready", async () => {
    const probesPort = await freePort();
    const nthd = startNthd({
      NODE_NAME: nodeName,
      KUBECONFIG: ground().kubeconfig,
      INSTANCE_METADATA_URL: mock.url,
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: String(probesPort),
      NTHD_BIND_ADDRESS: "127.0.0.1",
    });
    try {
      const pid = nthd.child.pid as number;
      await eventually(
        "readiness",
        async () =>
          (await fetch(`http://127.0.0.1:${probesPort}/readyz`).catch(() => undefined))?.ok
            ? true
            : undefined,
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${nthd.output()}`);
      });
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      for (const flag of IMDS_NODE_FLAGS)
        assert.ok(cmdline.includes(flag), `${flag} in ${cmdline}`);
      assert.ok(
        cmdline.some((a) => a.endsWith("src/main.ts")),
        "the same entry file",
      );
      assert.equal(nthd.child.exitCode, null, "still the child the test started");
    } finally {
      assert.equal(await nthd.stop(), 0);
    }
  });
});
