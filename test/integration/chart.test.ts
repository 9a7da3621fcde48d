// The Helm chart and the kOps manifests, checked with the real helm binary: lint, render,
// schema rejections, and the rendered objects (parsed, not grepped). Server-side validation
// and RBAC against the test ground's apiserver are in chart-apiserver.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadYaml } from "@kubernetes/client-node";
import { modeNodeFlags } from "../../bench/lib/handlers.ts";
import { SETTINGS } from "../../src/config/index.ts";
import { peerBinary } from "../env/peers.ts";

const root = join(new URL(".", import.meta.url).pathname, "..", "..");
const chart = join(root, "charts", "nthd");
const fixtures = join(root, "test", "fixtures", "chart");
const KUBE_VERSION = "1.35.4";
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/test-nth";
// What a user switching from NTH changes besides the chart: the image.
const NTHD_IMAGE = [
  "--set",
  "image.repository=registry.example.com/nthd",
  "--set",
  "image.tag=0.1.0",
];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects are inspected field by field
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  [key: string]: any;
}

function helm(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const run = spawnSync(peerBinary("helm"), args, { encoding: "utf8" });
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/** Splits helm's output into documents and parses each; empty documents are dropped. */
export function parseManifests(text: string): K8sObject[] {
  return (
    text
      .split(/^---\s*$/m)
      .filter((doc) => doc.split("\n").some((line) => line.trim() !== "" && !line.startsWith("#")))
      // Plain objects (the client's model classes would defeat deep equality checks).
      .map((doc) => JSON.parse(JSON.stringify(loadYaml<K8sObject>(doc))) as K8sObject)
  );
}

function render(args: readonly string[] = []): K8sObject[] {
  const run = helm([
    "template",
    "t",
    chart,
    "--namespace",
    "nthd-test",
    "--kube-version",
    KUBE_VERSION,
    ...args,
  ]);
  assert.equal(run.code, 0, `helm template failed: ${run.stderr}`);
  return parseManifests(run.stdout);
}

function renderError(args: readonly string[]): string {
  const run = helm(["template", "t", chart, "--kube-version", KUBE_VERSION, ...args]);
  assert.notEqual(run.code, 0, "helm template should have failed");
  return run.stderr;
}

function find(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.find((o) => o.kind === kind);
  assert.ok(found, `no ${kind} rendered; got ${objects.map((o) => o.kind).join(", ")}`);
  return found;
}

function podSpec(objects: K8sObject[]) {
  const workload = objects.find((o) => o.kind === "DaemonSet" || o.kind === "Deployment");
  assert.ok(workload, "no workload rendered");
  return workload.spec.template.spec;
}

/** Literal env values of the nthd container (downward API entries left out). */
function envValues(objects: K8sObject[]): Record<string, string> {
  const container = podSpec(objects).containers[0];
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

function envNames(objects: K8sObject[]): string[] {
  return (podSpec(objects).containers[0].env ?? []).map((e: { name: string }) => e.name);
}

/** Every environment name nthd reads, from the settings table. */
const NTHD_ENV = new Set(Object.values(SETTINGS).flatMap((s) => [...s.env]));

/** Variables the chart sets for the runtime under nthd, not for nthd, with their reader. */
const RUNTIME_ENV: Record<string, string> = {
  MALLOC_ARENA_MAX: "glibc's malloc",
  MALLOC_MMAP_THRESHOLD_: "glibc's malloc",
};

/** The Pod Security "restricted" rules, checked on a rendered pod spec. */
function restrictedViolations(spec: K8sObject["spec"]): string[] {
  const out: string[] = [];
  if (spec.hostNetwork) out.push("hostNetwork");
  if (spec.hostPID || spec.hostIPC) out.push("host namespaces");
  const podSc = spec.securityContext ?? {};
  for (const c of spec.containers) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${c.name}: drop ALL`);
    if ((sc.capabilities?.add ?? []).length > 0) out.push(`${c.name}: capabilities added`);
    if (sc.privileged) out.push(`${c.name}: privileged`);
    if (!(sc.runAsNonRoot ?? podSc.runAsNonRoot)) out.push(`${c.name}: runAsNonRoot`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) out.push(`${c.name}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") out.push(`${c.name}: seccomp`);
    if (sc.readOnlyRootFilesystem !== true) out.push(`${c.name}: readOnlyRootFilesystem`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${c.name}: hostPort`);
  }
  for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`volume ${v.name}: hostPath`);
  return out;
}

describe("helm lint", () => {
  const cases: Record<string, string[]> = {
    "default (IMDS)": [],
    queue: ["--set", "enableSqsTerminationDraining=true", "--set", `queueURL=${QUEUE_URL}`],
    "NTH queue values": ["-f", join(fixtures, "nth-values-queue.yaml"), ...NTHD_IMAGE],
    "NTH IMDS values": ["-f", join(fixtures, "nth-values-imds.yaml"), ...NTHD_IMAGE],
  };
  for (const [name, args] of Object.entries(cases)) {
    test(name, () => {
      const run = helm(["lint", chart, "--strict", "--kube-version", KUBE_VERSION, ...args]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
    });
  }
});

describe("IMDS mode (default)", () => {
  const objects = render();

  test("renders a DaemonSet and RBAC, nothing of queue mode", () => {
    const kinds = objects.map((o) => o.kind).sort();
    assert.deepEqual(kinds, ["ClusterRole", "ClusterRoleBinding", "DaemonSet", "ServiceAccount"]);
  });

  test("Linux nodes, no Fargate, every taint tolerated, host network for hop limit 1", () => {
    const spec = podSpec(objects);
    assert.equal(spec.nodeSelector["kubernetes.io/os"], "linux");
    const terms = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    assert.deepEqual(terms.nodeSelectorTerms[0].matchExpressions[0], {
      key: "eks.amazonaws.com/compute-type",
      operator: "NotIn",
      values: ["fargate"],
    });
    assert.deepEqual(spec.tolerations, [{ operator: "Exists" }]);
    assert.equal(spec.hostNetwork, true);
    assert.equal(spec.dnsPolicy, "ClusterFirstWithHostNet");
    assert.equal(spec.priorityClassName, "system-node-critical");
  });

  test("host networking is the only departure from the restricted profile", () => {
    assert.deepEqual(restrictedViolations(podSpec(objects)), ["hostNetwork"]);
    const without = render(["--set", "useHostNetwork=false"]);
    assert.deepEqual(restrictedViolations(podSpec(without)), []);
    assert.equal(podSpec(without).dnsPolicy, "ClusterFirst");
  });

  test("downward API identity; probes on, metrics off (NTH's default) on the host network", () => {
    const container = podSpec(objects).containers[0];
    const byName = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
    assert.equal(byName.NODE_NAME.valueFrom.fieldRef.fieldPath, "spec.nodeName");
    assert.equal(byName.POD_NAME.valueFrom.fieldRef.fieldPath, "metadata.name");
    assert.equal(byName.NAMESPACE.valueFrom.fieldRef.fieldPath, "metadata.namespace");
    const env = envValues(objects);
    assert.equal(env.NTHD_MODE, "imds");
    assert.equal(env.ENABLE_PROBES_SERVER, "true");
    assert.equal(env.ENABLE_PROMETHEUS_SERVER, "false");
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    const ports = Object.fromEntries(
      container.ports.map((p: { name: string; containerPort: number }) => [
        p.name,
        p.containerPort,
      ]),
    );
    // Host network: ports clear of the node's agents and of NTH's 8080/9092.
    assert.deepEqual(ports, { probes: 10281 });
    assert.equal(env.PROBES_SERVER_PORT, "10281");
    assert.equal(container.livenessProbe.httpGet.port, "probes");
  });

  test("listener ports follow the network; a PodMonitor turns metrics on; the bind address is settable", () => {
    const ports = (objects: K8sObject[]) =>
      Object.fromEntries(
        podSpec(objects).containers[0].ports.map((p: { name: string; containerPort: number }) => [
          p.name,
          p.containerPort,
        ]),
      );
    const monitored = render(["--set", "podMonitor.create=true"]);
    assert.deepEqual(ports(monitored), { "http-metrics": 10282, probes: 10281 });
    assert.equal(find(monitored, "PodMonitor").spec.podMetricsEndpoints[0].port, "http-metrics");
    const podNetwork = render(["--set", "useHostNetwork=false", "--set", "podMonitor.create=true"]);
    assert.deepEqual(ports(podNetwork), { "http-metrics": 9092, probes: 8080 });
    const chosen = render(["--set", "probesServerPort=9555", "--set", "bindAddress=10.0.0.7"]);
    assert.deepEqual(ports(chosen), { probes: 9555 });
    assert.equal(envValues(chosen).NTHD_BIND_ADDRESS, "10.0.0.7");
    const podIp = render(["--set", "bindAddress=podIP"]);
    const bind = podSpec(podIp).containers[0].env.find(
      (e: { name: string }) => e.name === "NTHD_BIND_ADDRESS",
    );
    assert.equal(bind.valueFrom.fieldRef.fieldPath, "status.podIP");
    assert.equal(envValues(objects).NTHD_BIND_ADDRESS, undefined, "unset: nthd's default");
  });

  test("an unset value is left to nthd's default instead of being repeated", () => {
    const env = envValues(objects);
    for (const name of ["TAINT_NODE", "DRY_RUN", "LOG_LEVEL", "QUEUE_URL", "WORKERS"]) {
      assert.equal(env[name], undefined, `${name} should not be rendered`);
    }
  });

  test("runs the image's entrypoint with the IMDS memory flags the bench measures", () => {
    const command: string[] = podSpec(objects).containers[0].command;
    // The flags file's, then a heap limit of half the chart's memory limit (128Mi).
    const flags = modeNodeFlags("imds");
    assert.equal(flags.at(-1), "--max-old-space-size=64");
    assert.deepEqual(podSpec(objects).containers[0].resources, {
      requests: { cpu: "20m", memory: "64Mi" },
      limits: { memory: "128Mi" },
    });
    assert.ok(flags.length > 0 && flags.every((f) => f.startsWith("--")), flags.join(" "));
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(readFileSync(join(root, "Dockerfile"), "utf8"));
    const [node, entry] = JSON.parse(entrypoint?.[1] ?? "[]") as string[];
    assert.deepEqual(command, [node, ...flags, entry]);
    // The same Node.js major as the image: an unknown flag would stop every pod at start.
    const run = spawnSync(process.execPath, [...flags, "-e", "0"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
  });
});

describe("queue mode", () => {
  const args = ["--set", "enableSqsTerminationDraining=true", "--set", `queueURL=${QUEUE_URL}`];
  const objects = render(args);

  test("renders a Deployment with two replicas and a PodDisruptionBudget", () => {
    assert.equal(
      objects.some((o) => o.kind === "DaemonSet"),
      false,
    );
    const deployment = find(objects, "Deployment");
    assert.equal(deployment.spec.replicas, 2);
    // Queue mode has flags of its own (a smaller young generation, a heap limit of half its memory limit).
    const container = podSpec(objects).containers[0];
    assert.deepEqual(container.command, [
      "/nodejs/bin/node",
      ...modeNodeFlags("queue"),
      "/app/nthd.mjs",
    ]);
    assert.ok(container.command.includes("--max-old-space-size=128"), container.command.join(" "));
    assert.deepEqual(container.resources, {
      requests: { cpu: "50m", memory: "128Mi" },
      limits: { memory: "256Mi" },
    });
    const pdb = find(objects, "PodDisruptionBudget");
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  });

  test("a Role for the replicas' Leases, in the release namespace only", () => {
    const role = find(objects, "Role");
    assert.equal(role.metadata.namespace, find(objects, "Deployment").metadata.namespace);
    assert.deepEqual(role.rules, [
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["get", "list", "watch", "create", "update", "delete"],
      },
    ]);
    const binding = find(objects, "RoleBinding");
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: role.metadata.name,
    });
    assert.equal(binding.subjects[0].name, find(objects, "ServiceAccount").metadata.name);
    // Nothing about leases cluster-wide.
    const clusterRules = find(objects, "ClusterRole").rules as { resources: string[] }[];
    assert.equal(
      clusterRules.some((r) => r.resources.includes("leases")),
      false,
    );
  });

  test("keeps off Spot nodes, spreads replicas, meets the restricted profile", () => {
    const spec = podSpec(objects);
    const expressions =
      spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
        .matchExpressions;
    assert.deepEqual(
      expressions.map((e: { key: string; operator: string }) => `${e.key} ${e.operator}`),
      ["karpenter.sh/capacity-type NotIn", "eks.amazonaws.com/capacityType NotIn"],
    );
    assert.deepEqual(
      spec.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey),
      ["topology.kubernetes.io/zone", "kubernetes.io/hostname"],
    );
    assert.equal(spec.priorityClassName, "system-cluster-critical");
    assert.deepEqual(restrictedViolations(spec), []);
  });

  test("mode: queue is the same switch", () => {
    const env = envValues(render(["--set", "mode=queue", "--set", `queueURL=${QUEUE_URL}`]));
    assert.equal(env.NTHD_MODE, "queue");
    assert.equal(env.ENABLE_SQS_TERMINATION_DRAINING, "true");
    assert.equal(env.QUEUE_URL, QUEUE_URL);
  });

  test("without a queue URL the install stops with a clear message", () => {
    assert.match(renderError(["--set", "mode=queue"]), /queueURL is required in queue mode/);
  });

  test("one replica renders no minAvailable PodDisruptionBudget (it would block every drain)", () => {
    const single = render([
      ...args,
      "--set",
      "replicas=1",
      "--set",
      "podDisruptionBudget.maxUnavailable=null",
      "--set",
      "podDisruptionBudget.minAvailable=1",
    ]);
    assert.equal(
      single.some((o) => o.kind === "PodDisruptionBudget"),
      false,
    );
    // maxUnavailable never blocks the one replica: kept, as kOps' addon has it.
    const kept = render([...args, "--set", "replicas=1"]);
    assert.equal(find(kept, "PodDisruptionBudget").spec.maxUnavailable, 1);
  });
});

describe("an aws-node-termination-handler values file works unchanged", () => {
  test("queue processor values map onto nthd's environment", () => {
    const objects = render(["-f", join(fixtures, "nth-values-queue.yaml"), ...NTHD_IMAGE]);
    assert.deepEqual(envValues(objects), {
      NTHD_MODE: "queue",
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      // nthd's own default, which NTH's values know nothing of.
      MALLOC_ARENA_MAX: "1",
      MALLOC_MMAP_THRESHOLD_: "131072",
      DRY_RUN: "false",
      CORDON_ONLY: "false",
      TAINT_NODE: "true",
      TAINT_EFFECT: "NoExecute",
      ENABLE_OUT_OF_SERVICE_TAINT: "true",
      EXCLUDE_FROM_LOAD_BALANCERS: "true",
      IGNORE_DAEMON_SETS: "true",
      DELETE_LOCAL_DATA: "true",
      POD_TERMINATION_GRACE_PERIOD: "60",
      NODE_TERMINATION_GRACE_PERIOD: "300",
      ENABLE_REBALANCE_MONITORING: "false",
      ENABLE_REBALANCE_DRAINING: "true",
      LOG_LEVEL: "INFO",
      JSON_LOGGING: "true",
      LOG_FORMAT_VERSION: "2",
      ENABLE_PROMETHEUS_SERVER: "true",
      PROMETHEUS_SERVER_PORT: "9092",
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: "8080",
      PROBES_SERVER_ENDPOINT: "/healthz",
      EMIT_KUBERNETES_EVENTS: "true",
      KUBERNETES_EVENTS_EXTRA_ANNOTATIONS: "owner=platform,pager=ops",
      WEBHOOK_HEADERS: '{"Content-type":"application/json","X-Team":"platform"}',
      WEBHOOK_TEMPLATE: '{"text":"{{ .Kind }} on {{ .NodeName }} ({{ .InstanceID }})"}',
      QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-cluster-nth",
      AWS_REGION: "eu-west-1",
      WORKERS: "20",
      // Deprecated NTH names (checkASGTagBeforeDraining, managedAsgTag) land on the new variables.
      CHECK_TAG_BEFORE_DRAINING: "false",
      MANAGED_TAG: "example.com/nth-managed",
      USE_PROVIDER_ID: "true",
      DELETE_SQS_MSG_IF_NODE_NOT_FOUND: "true",
      COMPLETE_LIFECYCLE_ACTION_DELAY_SECONDS: "5",
      HEARTBEAT_INTERVAL: "60",
      HEARTBEAT_UNTIL: "3600",
      SQS_MSG_VISIBILITY_TIMEOUT_SEC: "30",
      WEBHOOK_URL: "https://hooks.example.com/services/T000/B000/XXXX",
      HTTPS_PROXY: "http://proxy.internal:3128",
    });
    const sa = find(objects, "ServiceAccount");
    assert.equal(sa.metadata.name, "aws-node-termination-handler");
    assert.equal(
      sa.metadata.annotations?.["eks.amazonaws.com/role-arn"],
      "arn:aws:iam::123456789012:role/nth-queue-processor",
    );
    for (const o of objects) assert.equal(o.metadata.labels?.team, "platform", o.kind);
    const spec = podSpec(objects);
    assert.equal(find(objects, "Deployment").spec.template.metadata.labels["cost-center"], "infra");
    assert.equal(spec.nodeSelector["node-role.kubernetes.io/system"], "true");
    assert.equal(spec.topologySpreadConstraints[0].whenUnsatisfiable, "DoNotSchedule");
    assert.equal(find(objects, "ServiceMonitor").spec.endpoints[0].interval, "15s");
    assert.equal(find(objects, "Service").spec.ports[0].targetPort, "http-metrics");
    assert.equal(find(objects, "PodDisruptionBudget").spec.maxUnavailable, 1);
  });

  test("IMDS values map onto nthd's environment, Secret and ConfigMap references", () => {
    const objects = render(["-f", join(fixtures, "nth-values-imds.yaml"), ...NTHD_IMAGE]);
    const env = envValues(objects);
    assert.deepEqual(env, {
      NTHD_MODE: "imds",
      ENABLE_SQS_TERMINATION_DRAINING: "false",
      MALLOC_ARENA_MAX: "1",
      MALLOC_MMAP_THRESHOLD_: "131072",
      CORDON_ONLY: "false",
      TAINT_NODE: "true",
      // gracePeriod (deprecated) is used because podTerminationGracePeriod is not set.
      POD_TERMINATION_GRACE_PERIOD: "45",
      NODE_TERMINATION_GRACE_PERIOD: "120",
      ENABLE_REBALANCE_MONITORING: "true",
      ENABLE_REBALANCE_DRAINING: "false",
      LOG_LEVEL: "debug",
      JSON_LOGGING: "false",
      ENABLE_PROMETHEUS_SERVER: "false",
      // NTH's ports are not used on the host network (docs/install.md says why).
      PROMETHEUS_SERVER_PORT: "10282",
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: "10281",
      PROBES_SERVER_ENDPOINT: "/healthz",
      METADATA_TRIES: "5",
      ENABLE_SPOT_INTERRUPTION_DRAINING: "true",
      ENABLE_SCHEDULED_EVENT_DRAINING: "true",
      ENABLE_ASG_LIFECYCLE_DRAINING: "false",
      WEBHOOK_TEMPLATE_FILE: "/config/template.json",
    });
    const spec = podSpec(objects);
    const webhookUrl = spec.containers[0].env.find(
      (e: { name: string }) => e.name === "WEBHOOK_URL",
    );
    assert.deepEqual(webhookUrl.valueFrom.secretKeyRef, { name: "nth-webhook", key: "webhookurl" });
    assert.ok(
      spec.volumes.some(
        (v: { configMap?: { name: string } }) => v.configMap?.name === "nth-webhook-template",
      ),
    );
    assert.equal(spec.nodeSelector["node.kubernetes.io/lifecycle"], "spot");
    assert.equal(find(objects, "DaemonSet").spec.template.metadata.labels["os-flavour"], "linux");
    assert.equal(find(objects, "DaemonSet").spec.updateStrategy.rollingUpdate.maxUnavailable, 1);
    // No metrics port when NTH's file turns the metrics server off.
    assert.deepEqual(
      spec.containers[0].ports.map((p: { name: string }) => p.name),
      ["probes"],
    );
  });

  test("NTH's image in the values stops the install with a pointer to the fix", () => {
    const message = renderError(["-f", join(fixtures, "nth-values-queue.yaml")]);
    assert.match(message, /image\.repository .*aws-node-termination-handler.*Remove image\.\*/s);
  });
});

describe("every rendered variable is one nthd reads, and every setting has a chart value", () => {
  // Settings deliberately without a chart value, with the reason.
  const NOT_CHART_VALUES: Record<string, string> = {
    NODE_NAME: "downward API",
    POD_NAME: "downward API",
    NAMESPACE: "downward API",
    KUBECONFIG: "in-cluster service account",
    KUBERNETES_SERVICE_HOST: "set by the kubelet",
    KUBERNETES_SERVICE_PORT: "set by the kubelet",
    WEBHOOK_TEMPLATE_FILE: "webhookTemplateConfigMapName",
  };
  const everything = [
    ...["dryRun=true", "kubeApiBurst=40", "useApiserverCache=true", "apiProbeIdleSeconds=30"],
    ...["bindAddress=127.0.0.1"],
    ...["kubeApiTimeoutSeconds=20", "kubeWatchIdleTimeoutSeconds=120"],
    ...["cordonOnly=true", "taintNode=true", "taintEffect=NoExecute"],
    ...["enableOutOfServiceTaint=true", "excludeFromLoadBalancers=true", "ignoreDaemonSets=false"],
    ...["evictUnmanagedPods=false"],
    ...["deleteLocalData=false", "podTerminationGracePeriod=30", "nodeTerminationGracePeriod=200"],
    ...[
      "deadlineSafetyMarginSeconds=5",
      "maxConcurrentDrains=5000",
      "scheduledDrainLeadSeconds=900",
    ],
    ...["enableRebalanceMonitoring=true", "enableRebalanceDraining=true", "logLevel=debug"],
    ...["jsonLogging=false", "logFormatVersion=1", "emitKubernetesEvents=true"],
    ...["kubernetesEventsComponent=aws-node-termination-handler", "enableActionsNodeMetric=true"],
    ...["kubernetesEventsExtraAnnotations.team=a", "webhookURL=https://h.example.com/x"],
    ...["webhookProxy=http://p.example.com:3128", "webhookTemplate=x", "webhookHeaders.X-A=b"],
    ...["webhookTemplateConfigMapName=cm", "webhookTemplateConfigMapKey=k"],
  ].flatMap((v) => ["--set", v]);
  // JSON numbers reach the templates as float64, as numbers from a values file do.
  const numbers = ["--set-json", "kubeApiQps=0.5", "--set-json", "heartbeatUntil=172800"];
  const queueOnly = [
    ...["queueURL=https://sqs.us-east-1.amazonaws.com/1/q", "awsRegion=us-east-1"],
    ...["awsEndpoint=http://127.0.0.1:5000", "workers=3", "checkTagBeforeDraining=false"],
    ...["managedTag=x", "useProviderId=false", "deleteSqsMsgIfNodeNotFound=true"],
    ...["completeLifecycleActionDelaySeconds=2", "heartbeatInterval=30"],
    ...["sqsMsgVisibilityTimeoutSec=60", "completeLaunchLifecycleAction=true"],
    ...["auditIntervalSeconds=300", "auditNodeSelector=karpenter.sh/capacity-type=spot"],
    ...["awsConnectTimeoutSeconds=3", "awsRequestTimeoutSeconds=10", "awsMaxAttempts=4"],
    ...["queueHoldMaxSeconds=600", "completeLifecycleActionWithoutNode=false"],
    ...["nodeRegistrationWaitSeconds=30"],
    ...["leaseDurationSeconds=10"],
  ].flatMap((v) => ["--set", v]);
  const imdsOnly = [
    ...["instanceMetadataURL=http://127.0.0.1:1338", "metadataTries=4", "imdsPollIntervalMs=500"],
    ...["imdsTokenTtlSeconds=600", "imdsAllowV1Fallback=true", "procUptimeFile=/tmp/uptime"],
    ...["enableSpotInterruptionDraining=false", "enableScheduledEventDraining=false"],
  ].flatMap((v) => ["--set", v]);
  const queue = render(["--set", "mode=queue", ...everything, ...numbers, ...queueOnly]);
  const imds = render([...everything, ...numbers, ...imdsOnly]);

  test("no variable nthd would ignore", () => {
    for (const objects of [queue, imds]) {
      const unknown = envNames(objects).filter(
        (n) => !NTHD_ENV.has(n) && RUNTIME_ENV[n] === undefined,
      );
      assert.deepEqual(unknown, []);
    }
  });

  test("each setting's main variable is reachable from a chart value", () => {
    const rendered = new Set([...envNames(queue), ...envNames(imds)]);
    const missing = Object.entries(SETTINGS)
      .map(([key, spec]) => ({ key, env: spec.env[0] as string }))
      .filter(({ env }) => !rendered.has(env) && NOT_CHART_VALUES[env] === undefined);
    assert.deepEqual(missing, [], "add a chart value (templates/_env.tpl) or list it here");
  });

  test("glibc's malloc arena cap: 1 in both modes, changed or left out by mallocArenaMax", () => {
    assert.equal(envValues(queue).MALLOC_ARENA_MAX, "1");
    assert.equal(envValues(imds).MALLOC_ARENA_MAX, "1");
    assert.equal(envValues(render(["--set", "mallocArenaMax=4"])).MALLOC_ARENA_MAX, "4");
    assert.equal(
      envNames(render(["--set", "mallocArenaMax=null"])).includes("MALLOC_ARENA_MAX"),
      false,
    );
  });

  test("glibc's fixed mmap threshold: 128 KiB in both modes, changed or left out by mallocMmapThreshold", () => {
    assert.equal(envValues(queue).MALLOC_MMAP_THRESHOLD_, "131072");
    assert.equal(envValues(imds).MALLOC_MMAP_THRESHOLD_, "131072");
    const changed = render(["--set", "mallocMmapThreshold=65536"]);
    assert.equal(envValues(changed).MALLOC_MMAP_THRESHOLD_, "65536");
    const dropped = render(["--set", "mallocMmapThreshold=null"]);
    assert.equal(envNames(dropped).includes("MALLOC_MMAP_THRESHOLD_"), false);
    assert.match(renderError(["--set", "mallocMmapThreshold=100"]), /mallocMmapThreshold/);
  });

  test("maps become the forms nthd parses; numbers keep their digits", () => {
    const env = envValues(queue);
    assert.equal(env.KUBERNETES_EVENTS_EXTRA_ANNOTATIONS, "team=a");
    assert.equal(env.WEBHOOK_HEADERS, '{"X-A":"b"}');
    assert.equal(env.HEARTBEAT_UNTIL, "172800");
    assert.equal(env.KUBE_API_QPS, "0.5");
    assert.equal(env.NTHD_MAX_CONCURRENT_DRAINS, "5000");
  });
});

describe("values.schema.json rejects wrong values at install", () => {
  const cases: [string, string[], RegExp][] = [
    ["misspelt effect", ["--set", "taintEffect=NoSchedul"], /taintEffect.*must be one of/s],
    ["word for a number", ["--set", "workers=ten"], /\/workers/],
    ["out of range", ["--set", "metadataTries=0"], /\/metadataTries/],
    ["misspelt key", ["--set", "queueUrl=https://x.example.com"], /queueUrl' not allowed/],
    ["Windows nodes", ["--set", "targetNodeOs=windows"], /targetNodeOs.*linux/s],
    ["unknown mode", ["--set", "mode=sqs"], /\/mode/],
    ["not a URL", ["--set", "webhookURL=hooks.example.com"], /\/webhookURL/],
    ["bad log level", ["--set", "logLevel=verbose"], /\/logLevel/],
  ];
  for (const [name, args, pattern] of cases) {
    test(name, () => {
      const message = renderError(args);
      assert.match(message, /values don't meet the specifications of the schema/);
      assert.match(message, pattern);
    });
  }

  test("mode and NTH's switch must agree", () => {
    const message = renderError([
      "--set",
      "mode=imds",
      "--set",
      "enableSqsTerminationDraining=true",
    ]);
    assert.match(message, /mode is imds but enableSqsTerminationDraining is true/);
  });
});

describe("kOps manifests", () => {
  const examples = join(root, "deploy", "kops", "examples");
  function renderKops(cluster: string): string {
    const run = spawnSync(
      process.execPath,
      [join(root, "deploy", "kops", "render.ts"), join(examples, `${cluster}-cluster.yaml`)],
      { encoding: "utf8", env: { ...process.env, HELM: peerBinary("helm") } },
    );
    assert.equal(run.status, 0, run.stderr);
    return run.stdout;
  }

  for (const cluster of ["queue", "imds", "rebalance-irsa"]) {
    test(`${cluster}: the committed example is what the renderer produces`, () => {
      const committed = readFileSync(join(examples, `${cluster}-manifest.yaml`), "utf8");
      // Compared as objects, so reformatting the committed YAML does not matter.
      assert.deepEqual(
        parseManifests(renderKops(cluster)),
        parseManifests(committed),
        "stale example: re-render as docs/kops.md shows",
      );
    });
  }

  test("queue mode: kOps' wiring", () => {
    const objects = parseManifests(renderKops("queue"));
    for (const o of objects) {
      if (o.kind !== "ClusterRole" && o.kind !== "ClusterRoleBinding") {
        assert.equal(o.metadata.namespace, "kube-system", o.kind);
      }
    }
    const deployment = find(objects, "Deployment");
    assert.equal(deployment.metadata.name, "aws-node-termination-handler");
    assert.equal(deployment.spec.replicas, 2, "HA control plane: two replicas");
    const spec = deployment.spec.template.spec;
    assert.equal(spec.hostNetwork, true, "no IRSA: the control-plane instance role via IMDS");
    assert.equal(spec.priorityClassName, "system-cluster-critical");
    assert.equal(spec.nodeSelector["node-role.kubernetes.io/control-plane"], "");
    assert.equal(find(objects, "PodDisruptionBudget").spec.maxUnavailable, 1);
    const env = envValues(objects);
    assert.equal(
      env.QUEUE_URL,
      "https://sqs.eu-west-1.amazonaws.com/ACCOUNT_ID/prod-example-com-nth",
    );
    for (const [name, value] of Object.entries({
      USE_PROVIDER_ID: "true",
      CHECK_TAG_BEFORE_DRAINING: "true",
      EMIT_KUBERNETES_EVENTS: "true",
      JSON_LOGGING: "true",
      LOG_FORMAT_VERSION: "2",
      NODE_TERMINATION_GRACE_PERIOD: "120",
      DELETE_LOCAL_DATA: "true",
      IGNORE_DAEMON_SETS: "true",
      WORKERS: "10",
      SQS_MSG_VISIBILITY_TIMEOUT_SEC: "20",
      // Host network on the control plane: the host-network ports.
      PROBES_SERVER_PORT: "10281",
      PROMETHEUS_SERVER_PORT: "10282",
      ENABLE_PROMETHEUS_SERVER: "true",
      EXCLUDE_FROM_LOAD_BALANCERS: "true",
      AWS_REGION: "eu-west-1",
    })) {
      assert.equal(env[name], value, name);
    }
    assert.equal(env.HEARTBEAT_INTERVAL, undefined, "nthd's default: heartbeats from the hook");
  });

  test("IMDS mode: a DaemonSet on the host network with the spec's switches", () => {
    const objects = parseManifests(renderKops("imds"));
    const spec = find(objects, "DaemonSet").spec.template.spec;
    assert.equal(spec.hostNetwork, true);
    assert.deepEqual(spec.containers[0].resources, {
      requests: { cpu: "30m", memory: "48Mi" },
      limits: { memory: "128Mi" },
    });
    const env = envValues(objects);
    assert.equal(env.ENABLE_SPOT_INTERRUPTION_DRAINING, "true");
    assert.equal(env.ENABLE_ASG_LIFECYCLE_DRAINING, "true", "kOps' IMDS mode watches it");
    assert.equal(env.QUEUE_URL, undefined);
  });

  test("rebalance draining with IRSA: no host network, a web identity token", () => {
    const objects = parseManifests(renderKops("rebalance-irsa"));
    const spec = find(objects, "Deployment").spec.template.spec;
    assert.notEqual(spec.hostNetwork, true);
    assert.deepEqual(restrictedViolations(spec), []);
    const env = envValues(objects);
    assert.equal(env.ENABLE_REBALANCE_DRAINING, "true");
    assert.equal(env.ENABLE_REBALANCE_MONITORING, "true");
    assert.equal(env.TAINT_NODE, "true");
    assert.equal(env.DELETE_SQS_MSG_IF_NODE_NOT_FOUND, "true");
    assert.match(
      env.AWS_ROLE_ARN ?? "",
      /^arn:aws:iam::ACCOUNT_ID:role\/aws-node-termination-handler\./,
    );
    assert.equal(env.AWS_WEB_IDENTITY_TOKEN_FILE, "/var/run/secrets/amazonaws.com/token");
    const token = spec.volumes.find((v: { name: string }) => v.name === "token-amazonaws-com");
    assert.equal(token.projected.sources[0].serviceAccountToken.audience, "amazonaws.com");
  });
});
