// The chart's manifests against the test ground's real kube-apiserver: every object passes a
// server-side dry run with strict field validation, the pods pass Pod Security "restricted"
// admission (host networking is the one documented exception), and the ClusterRole grants
// exactly what nthd uses, checked by SubjectAccessReview for the chart's ServiceAccount.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  AuthorizationV1Api,
  CoreV1Api,
  loadYaml,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1Role,
  type V1RoleBinding,
  type V1ServiceAccount,
} from "@kubernetes/client-node";
import { kubeConfig, peerBinary } from "../env/ground.ts";

const root = join(new URL(".", import.meta.url).pathname, "..", "..");
const chart = join(root, "charts", "nthd");
const fixtures = join(root, "test", "fixtures", "chart");
const suffix = Math.random().toString(36).slice(2, 8);
const NS = `nthd-chart-${suffix}`;
const QUEUE = ["--set", "mode=queue", "--set", "queueURL=https://sqs.us-east-1.amazonaws.com/1/q"];
const NTHD_IMAGE = [
  "--set",
  "image.repository=registry.example.com/nthd",
  "--set",
  "image.tag=0.1.0",
];

/** Where each kind lives in the API (only the kinds the chart renders). */
const RESOURCES: Record<string, { prefix: string; plural: string; namespaced: boolean }> = {
  ServiceAccount: { prefix: "/api/v1", plural: "serviceaccounts", namespaced: true },
  Service: { prefix: "/api/v1", plural: "services", namespaced: true },
  ClusterRole: {
    prefix: "/apis/rbac.authorization.k8s.io/v1",
    plural: "clusterroles",
    namespaced: false,
  },
  ClusterRoleBinding: {
    prefix: "/apis/rbac.authorization.k8s.io/v1",
    plural: "clusterrolebindings",
    namespaced: false,
  },
  Role: { prefix: "/apis/rbac.authorization.k8s.io/v1", plural: "roles", namespaced: true },
  RoleBinding: {
    prefix: "/apis/rbac.authorization.k8s.io/v1",
    plural: "rolebindings",
    namespaced: true,
  },
  DaemonSet: { prefix: "/apis/apps/v1", plural: "daemonsets", namespaced: true },
  Deployment: { prefix: "/apis/apps/v1", plural: "deployments", namespaced: true },
  PodDisruptionBudget: {
    prefix: "/apis/policy/v1",
    plural: "poddisruptionbudgets",
    namespaced: true,
  },
  Pod: { prefix: "/api/v1", plural: "pods", namespaced: true },
};
/** Prometheus Operator kinds: their CRDs are not part of the test ground. */
const CRD_KINDS = new Set(["ServiceMonitor", "PodMonitor", "PrometheusRule"]);

interface Doc {
  text: string;
  kind: string;
  name: string;
}

function renderDocs(release: string, args: readonly string[]): Doc[] {
  const run = spawnSync(
    peerBinary("helm"),
    ["template", release, chart, "--namespace", NS, "--kube-version", "1.35.4", ...args],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  return run.stdout
    .split(/^---\s*$/m)
    .filter((t) => t.split("\n").some((l) => l.trim() !== "" && !l.startsWith("#")))
    .map((text) => {
      const o = JSON.parse(JSON.stringify(loadYaml(text))) as {
        kind: string;
        metadata: { name: string };
      };
      return { text, kind: o.kind, name: o.metadata.name };
    });
}

/** POSTs a document as the ground's admin; the body is sent as the YAML helm wrote. */
async function post(
  path: string,
  body: string,
  contentType: string,
): Promise<{ status: number; body: string }> {
  const kc = kubeConfig();
  const cluster = kc.getCurrentCluster();
  assert.ok(cluster, "no cluster in the ground's kubeconfig");
  const url = new URL(path, cluster.server);
  const options: Parameters<typeof request>[1] = {
    method: "POST",
    headers: { "content-type": contentType, accept: "application/json" },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function pathFor(kind: string): string {
  const r = RESOURCES[kind];
  assert.ok(r, `test does not know where ${kind} lives`);
  return r.namespaced ? `${r.prefix}/namespaces/${NS}/${r.plural}` : `${r.prefix}/${r.plural}`;
}

async function dryRunCreate(kind: string, body: string, contentType = "application/yaml") {
  return post(`${pathFor(kind)}?dryRun=All&fieldValidation=Strict`, body, contentType);
}

const PSA_SERVICE_ACCOUNT = "pod-security-check";

/** A Pod built from a workload's pod template, to put it through Pod Security admission. */
function podFromTemplate(doc: Doc): string {
  // biome-ignore lint/suspicious/noExplicitAny: a rendered workload, read field by field
  const workload = loadYaml<any>(doc.text);
  const template = JSON.parse(JSON.stringify(workload.spec.template));
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `pod-security-${suffix}`, namespace: NS, labels: template.metadata.labels },
    // Admission needs an existing ServiceAccount; the release's own is not created here.
    spec: { ...template.spec, serviceAccountName: PSA_SERVICE_ACCOUNT },
  });
}

describe("rendered manifests against the apiserver", () => {
  const core = () => kubeConfig().makeApiClient(CoreV1Api);

  before(async () => {
    await core().createNamespace({
      body: {
        metadata: {
          name: NS,
          labels: { "pod-security.kubernetes.io/enforce": "restricted" },
        },
      },
    });
    await core().createNamespacedServiceAccount({
      namespace: NS,
      body: { metadata: { name: PSA_SERVICE_ACCOUNT } },
    });
  });
  after(async () => {
    await core().deleteNamespace({ name: NS });
  });

  const variants: Record<string, string[]> = {
    "IMDS default": [],
    "IMDS without host network": ["--set", "useHostNetwork=false"],
    queue: [...QUEUE, "--set", "serviceMonitor.create=true"],
    "NTH queue values": ["-f", join(fixtures, "nth-values-queue.yaml"), ...NTHD_IMAGE],
    "NTH IMDS values": ["-f", join(fixtures, "nth-values-imds.yaml"), ...NTHD_IMAGE],
  };
  for (const [name, args] of Object.entries(variants)) {
    test(`${name}: every object passes a strict server-side dry run`, async () => {
      const docs = renderDocs(`dry-${suffix}`, args).filter((d) => !CRD_KINDS.has(d.kind));
      assert.ok(docs.length >= 4);
      for (const doc of docs) {
        const res = await dryRunCreate(doc.kind, doc.text);
        assert.equal(res.status, 201, `${doc.kind} ${doc.name}: ${res.body}`);
      }
    });
  }

  const podSecurity: [string, string[], boolean][] = [
    ["queue mode", QUEUE, true],
    ["IMDS without host network", ["--set", "useHostNetwork=false"], true],
    ["IMDS with host network (the documented exception)", [], false],
  ];
  for (const [name, args, admitted] of podSecurity) {
    test(`Pod Security restricted: ${name} is ${admitted ? "admitted" : "refused"}`, async () => {
      const workload = renderDocs(`psa-${suffix}`, args).find(
        (d) => d.kind === "Deployment" || d.kind === "DaemonSet",
      );
      assert.ok(workload);
      const res = await dryRunCreate("Pod", podFromTemplate(workload), "application/json");
      if (admitted) assert.equal(res.status, 201, res.body);
      else {
        assert.equal(res.status, 403, res.body);
        const message = (JSON.parse(res.body) as { message: string }).message;
        assert.match(message, /violates PodSecurity "restricted:latest": host namespaces/);
      }
    });
  }
});

describe("RBAC: exactly what nthd uses", () => {
  const release = `rbac-${suffix}`;
  const rbacNs = `nthd-rbac-${suffix}`;
  let serviceAccount = "";

  before(async () => {
    const kc = kubeConfig();
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: rbacNs } } });
    const run = spawnSync(
      peerBinary("helm"),
      ["template", release, chart, "--namespace", rbacNs, "--kube-version", "1.35.4", ...QUEUE],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    for (const text of run.stdout.split(/^---\s*$/m)) {
      if (!/^kind:/m.test(text)) continue;
      // The real objects this time: the reviews below are answered from them.
      const o = JSON.parse(JSON.stringify(loadYaml(text))) as {
        kind: string;
        metadata: { name: string };
      };
      if (o.kind === "ServiceAccount") {
        serviceAccount = o.metadata.name;
        await kc
          .makeApiClient(CoreV1Api)
          .createNamespacedServiceAccount({ namespace: rbacNs, body: o as V1ServiceAccount });
      }
      if (o.kind === "ClusterRole") await rbac.createClusterRole({ body: o as V1ClusterRole });
      if (o.kind === "Role") {
        await rbac.createNamespacedRole({ namespace: rbacNs, body: o as V1Role });
      }
      if (o.kind === "RoleBinding") {
        await rbac.createNamespacedRoleBinding({ namespace: rbacNs, body: o as V1RoleBinding });
      }
      if (o.kind === "ClusterRoleBinding") {
        await rbac.createClusterRoleBinding({ body: o as V1ClusterRoleBinding });
      }
    }
    assert.ok(serviceAccount, "the chart rendered no ServiceAccount");
  });
  after(async () => {
    const kc = kubeConfig();
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const name = `${release}-nthd`;
    await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
    await rbac.deleteClusterRole({ name }).catch(() => undefined);
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: rbacNs });
  });

  async function allowed(
    verb: string,
    resource: string,
    group = "",
    subresource?: string,
    namespace = "default",
  ) {
    const review = await kubeConfig()
      .makeApiClient(AuthorizationV1Api)
      .createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${rbacNs}:${serviceAccount}`,
            groups: [
              "system:serviceaccounts",
              `system:serviceaccounts:${rbacNs}`,
              "system:authenticated",
            ],
            resourceAttributes: {
              verb,
              resource,
              group,
              namespace: resource === "nodes" ? "" : namespace,
              ...(subresource ? { subresource } : {}),
            },
          },
        },
      });
    return review.status?.allowed === true;
  }

  const granted: [string, string, string?, string?][] = [
    ["get", "nodes"],
    ["list", "nodes"],
    ["watch", "nodes"],
    ["patch", "nodes"],
    ["list", "pods"],
    ["watch", "pods"],
    ["create", "pods", "", "eviction"],
    ["create", "events"],
    ["list", "poddisruptionbudgets", "policy"],
  ];
  const denied: [string, string, string?, string?][] = [
    // Calls nthd never makes (checked by running it under this identity).
    ["get", "pods"],
    ["patch", "events"],
    ["create", "events", "events.k8s.io"],
    ["watch", "poddisruptionbudgets", "policy"],
    ["get", "secrets"],
    ["list", "secrets"],
    ["get", "configmaps"],
    ["update", "nodes"],
    ["delete", "nodes"],
    ["create", "nodes"],
    ["delete", "pods"],
    ["create", "pods"],
    ["patch", "pods"],
    ["update", "pods", "", "status"],
    ["get", "nodes", "", "proxy"],
    ["create", "pods", "", "exec"],
    ["create", "serviceaccounts", "", "token"],
    ["get", "daemonsets", "apps"],
    ["update", "deployments", "apps"],
    ["create", "leases", "coordination.k8s.io"],
    ["delete", "events"],
    ["create", "poddisruptionbudgets", "policy"],
    ["escalate", "clusterroles", "rbac.authorization.k8s.io"],
  ];
  const label = (v: string, r: string, g?: string, s?: string) =>
    `${v} ${r}${s ? `/${s}` : ""}${g ? `.${g}` : ""}`;

  // Queue-mode replicas' Leases: in the release namespace only (a Role, not the ClusterRole).
  for (const verb of ["get", "list", "watch", "create", "update", "delete"]) {
    test(`allowed in the release namespace: ${verb} leases.coordination.k8s.io`, async () => {
      assert.equal(await allowed(verb, "leases", "coordination.k8s.io", undefined, rbacNs), true);
    });
  }
  for (const verb of ["patch", "deletecollection"]) {
    test(`denied in the release namespace: ${verb} leases.coordination.k8s.io`, async () => {
      assert.equal(await allowed(verb, "leases", "coordination.k8s.io", undefined, rbacNs), false);
    });
  }
  test("denied elsewhere: get leases.coordination.k8s.io in kube-node-lease", async () => {
    assert.equal(
      await allowed("get", "leases", "coordination.k8s.io", undefined, "kube-node-lease"),
      false,
    );
  });

  for (const [verb, resource, group, sub] of granted) {
    test(`allowed: ${label(verb, resource, group, sub)}`, async () => {
      assert.equal(await allowed(verb, resource, group, sub), true);
    });
  }
  for (const [verb, resource, group, sub] of denied) {
    test(`denied: ${label(verb, resource, group, sub)}`, async () => {
      assert.equal(await allowed(verb, resource, group, sub), false);
    });
  }
});
