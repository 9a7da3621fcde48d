// nthd's own Kubernetes client against the real API server: the in-cluster
// configuration (service account token and CA read from a directory, the
// token re-read when the API server refuses it), watches, and configuration
// errors surfacing as CONFIG_INVALID. (A watch's 410 ERROR event needs an
// etcd compaction to provoke; its parsing is unit-tested in kube-watch.)
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { isNthdError } from "../../src/errors.ts";
import { classifyKubeError } from "../../src/kube/api-error.ts";
import { createKubeClient, type WatchEventType } from "../../src/kube/client.ts";
import { createNode, ground, kubeConfig, randomInstanceId } from "../env/ground.ts";

const run = Math.random().toString(36).slice(2, 7);
const ns = `kube-client-${run}`;
const sa = "reader";
const role = `kube-client-reader-${run}`;
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const nodeName = `kube-client-${run}`;
const dirs: string[] = [];

before(async () => {
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: sa } } });
  await rbac.createClusterRole({
    body: {
      metadata: { name: role },
      rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] }],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }],
    },
  });
  await createNode({ name: nodeName, instanceId: randomInstanceId() });
});

after(async () => {
  await core.deleteNode({ name: nodeName }).catch(() => {});
  await rbac.deleteClusterRoleBinding({ name: role }).catch(() => {});
  await rbac.deleteClusterRole({ name: role }).catch(() => {});
  await core.deleteNamespace({ name: ns }).catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nthd-kube-client-"));
  dirs.push(dir);
  return dir;
}

describe("nthd's Kubernetes client", () => {
  test("in-cluster: token and CA from the service account directory; a rotated token is picked up after a 401", async () => {
    const minted = await core.createNamespacedServiceAccountToken({
      name: sa,
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = minted.status?.token ?? "";
    assert.notEqual(token, "");
    const caData = kc.getCurrentCluster()?.caData ?? "";
    const dir = tempDir();
    writeFileSync(join(dir, "ca.crt"), Buffer.from(caData, "base64"));
    writeFileSync(join(dir, "token"), "not-a-token");
    const api = new URL(ground().apiserverUrl);
    const kube = createKubeClient({
      qps: 50,
      burst: 50,
      serviceAccountDir: dir,
      env: { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port },
    });
    try {
      await assert.rejects(kube.getNode(nodeName), (err: unknown) => {
        assert.ok(isNthdError(err, "KUBE_API"), String(err));
        assert.equal(classifyKubeError(err).status, 401);
        assert.equal(classifyKubeError(err).kind, "forbidden");
        return true;
      });
      // The kubelet rotates the projected token in place; the next call's 401 re-reads it.
      writeFileSync(join(dir, "token"), `${token}\n`);
      const node = await kube.getNode(nodeName);
      assert.equal(node?.metadata?.name, nodeName);
      const { nodes } = await kube.listNodes();
      assert.ok(nodes.some((n) => n.metadata?.name === nodeName));
      // RBAC still applies to the service account: pods were not granted.
      await assert.rejects(kube.listPodsOnNode(nodeName), (err: unknown) => {
        assert.equal(classifyKubeError(err).status, 403);
        assert.match(classifyKubeError(err).message, /cannot list resource "pods"/);
        return true;
      });
    } finally {
      await kube.close();
    }
  });

  test("in-cluster: a missing token file is a configuration error naming it", async () => {
    const dir = tempDir();
    const kube = createKubeClient({
      qps: 5,
      burst: 5,
      serviceAccountDir: dir,
      env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: "1" },
    });
    await assert.rejects(kube.getNode(nodeName), (err: unknown) => {
      assert.ok(isNthdError(err, "CONFIG_INVALID"), String(err));
      assert.ok(err.message.includes(join(dir, "token")), err.message);
      return true;
    });
  });

  test("a kubeconfig that cannot be read is a configuration error naming the file", async () => {
    const missing = join(tempDir(), "absent-kubeconfig");
    const kube = createKubeClient({ kubeconfigPath: missing, qps: 5, burst: 5 });
    await assert.rejects(kube.listNodes(), (err: unknown) => {
      assert.ok(isNthdError(err, "CONFIG_INVALID"), String(err));
      assert.match(err.message, new RegExp(`kubeconfig ${missing}: cannot read`));
      return true;
    });
  });

  test("watch: events from a list's resourceVersion until aborted", async () => {
    const kube = createKubeClient({ kubeconfigPath: ground().kubeconfig, qps: 50, burst: 50 });
    const stop = new AbortController();
    try {
      const { resourceVersion } = await kube.listNodes();
      const seen: Array<[WatchEventType, string]> = [];
      let ended: unknown = "not yet";
      const gotLabel = Promise.withResolvers<void>();
      await kube.watchNodes(
        resourceVersion,
        (type, node) => {
          if (node.metadata?.name !== nodeName) return;
          seen.push([type, node.metadata?.labels?.["kube-client-test"] ?? ""]);
          if (node.metadata?.labels?.["kube-client-test"] === "yes") gotLabel.resolve();
        },
        (err) => {
          ended = err;
        },
        stop.signal,
      );
      await kube.patchNode(nodeName, { metadata: { labels: { "kube-client-test": "yes" } } });
      await gotLabel.promise;
      assert.deepEqual(seen.at(-1), ["MODIFIED", "yes"]);
      assert.equal(ended, "not yet");
      stop.abort(new Error("test done"));
      assert.match(String(ended), /test done/);
    } finally {
      await kube.close();
    }
  });
});
