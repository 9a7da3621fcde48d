// The kOps cluster spec -> chart values mapping (pure; the rendered manifests are checked in
// test/integration/chart.test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type KopsCluster, kopsValues, queueUrl } from "../../deploy/kops/kops-values.ts";

function cluster(nth: NonNullable<KopsCluster["spec"]> = {}): KopsCluster {
  return {
    metadata: { name: "prod.example.com" },
    spec: {
      subnets: [{ zone: "eu-west-1b" }],
      etcdClusters: [{ etcdMembers: [{}, {}, {}] }],
      ...nth,
    },
  };
}

function mapped(c: KopsCluster, accountId?: string) {
  const result = kopsValues(c, accountId ? { accountId } : {});
  assert.ok(result.ok, "mapping failed");
  return result;
}

describe("kOps spec.nodeTerminationHandler to chart values", () => {
  test("an empty spec gets kOps' defaults: queue mode, HA replicas, host network", () => {
    const { values, mode } = mapped(cluster(), "123456789012");
    assert.equal(mode, "queue");
    assert.equal(values.enableSqsTerminationDraining, true);
    assert.equal(
      values.queueURL,
      "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-example-com-nth",
    );
    assert.equal(values.awsRegion, "eu-west-1");
    assert.equal(values.replicas, 2);
    assert.equal(values.deploymentHostNetwork, true);
    assert.equal(values.managedTag, "aws-node-termination-handler/managed");
    assert.equal(values.excludeFromLoadBalancers, true);
    assert.equal(values.enablePrometheusServer, false);
    assert.equal(values.podTerminationGracePeriod, -1);
    assert.deepEqual(values.resources, { requests: { cpu: "50m", memory: "64Mi" } });
  });

  test("a single control-plane member runs one replica", () => {
    const { values } = mapped(cluster({ etcdClusters: [{ etcdMembers: [{}] }] }));
    assert.equal(values.replicas, 1);
  });

  test("IRSA: no host network, a web identity token and role instead", () => {
    const { values } = mapped(cluster({ iam: { useServiceAccountExternalPermissions: true } }));
    assert.equal(values.deploymentHostNetwork, false);
    const env = values.extraEnv as { name: string; value: string }[];
    assert.deepEqual(
      env.map((e) => e.name),
      ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"],
    );
    assert.match(
      env[0]?.value ?? "",
      /:role\/aws-node-termination-handler\.kube-system\.sa\.prod\.example\.com$/,
    );
  });

  test("IMDS mode carries the IMDS switches and no queue settings", () => {
    const { values, mode } = mapped(
      cluster({
        nodeTerminationHandler: {
          enableSQSTerminationDraining: false,
          enableSpotInterruptionDraining: false,
          enableScheduledEventDraining: true,
          memoryLimit: "100Mi",
        },
      }),
    );
    assert.equal(mode, "imds");
    // The queue processor's control-plane placement does not apply to the DaemonSet.
    assert.equal(values.nodeSelector, null);
    assert.equal(values.tolerations, null);
    assert.equal(values.enableSpotInterruptionDraining, false);
    assert.equal(values.enableScheduledEventDraining, true);
    assert.equal(values.queueURL, undefined);
    assert.deepEqual(values.image, {});
    assert.deepEqual(values.resources, {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { memory: "100Mi" },
    });
  });

  test("each kOps field lands on its chart value", () => {
    const { values } = mapped(
      cluster({
        nodeTerminationHandler: {
          enableRebalanceMonitoring: true,
          enableRebalanceDraining: true,
          enableOutOfServiceTaint: true,
          prometheusEnable: true,
          excludeFromLoadBalancers: false,
          managedASGTag: "example.com/managed",
          podTerminationGracePeriod: 30,
          taintNode: true,
          deleteSQSMsgIfNodeNotFound: true,
          cpuRequest: "10m",
          memoryRequest: "32Mi",
          webhookURL: "https://hooks.example.com/x",
          webhookTemplate: '{"text":"{{ .Kind }}"}',
        },
      }),
    );
    assert.deepEqual(
      {
        enableRebalanceMonitoring: values.enableRebalanceMonitoring,
        enableRebalanceDraining: values.enableRebalanceDraining,
        enableOutOfServiceTaint: values.enableOutOfServiceTaint,
        enablePrometheusServer: values.enablePrometheusServer,
        excludeFromLoadBalancers: values.excludeFromLoadBalancers,
        managedTag: values.managedTag,
        podTerminationGracePeriod: values.podTerminationGracePeriod,
        taintNode: values.taintNode,
        deleteSqsMsgIfNodeNotFound: values.deleteSqsMsgIfNodeNotFound,
        resources: values.resources,
        webhookURL: values.webhookURL,
        webhookTemplate: values.webhookTemplate,
      },
      {
        enableRebalanceMonitoring: true,
        enableRebalanceDraining: true,
        enableOutOfServiceTaint: true,
        enablePrometheusServer: true,
        excludeFromLoadBalancers: false,
        managedTag: "example.com/managed",
        podTerminationGracePeriod: 30,
        taintNode: true,
        deleteSqsMsgIfNodeNotFound: true,
        resources: { requests: { cpu: "10m", memory: "32Mi" } },
        webhookURL: "https://hooks.example.com/x",
        webhookTemplate: '{"text":"{{ .Kind }}"}',
      },
    );
  });

  test("kOps' version names an NTH release: not copied into the image tag, said in a note", () => {
    const result = mapped(cluster({ nodeTerminationHandler: { version: "v1.25.6" } }));
    assert.deepEqual(result.values.image, {});
    assert.equal(result.notes.length, 1);
    assert.match(result.notes[0] ?? "", /v1\.25\.6 .*--tag/);
    const tagged = kopsValues(cluster(), { imageTag: "0.2.0" });
    assert.ok(tagged.ok);
    assert.deepEqual(tagged.values.image, { tag: "0.2.0" });
    assert.deepEqual(tagged.notes, []);
  });

  test("IRSA lifts the control-plane placement, as kOps does; without it the placement stays", () => {
    const irsa = mapped(cluster({ iam: { useServiceAccountExternalPermissions: true } }));
    assert.ok("nodeSelector" in irsa.values && irsa.values.nodeSelector === null);
    assert.ok("tolerations" in irsa.values && irsa.values.tolerations === null);
    const plain = mapped(cluster());
    assert.equal("nodeSelector" in plain.values, false);
  });

  test("disabled renders nothing, with the reason", () => {
    const result = kopsValues(cluster({ nodeTerminationHandler: { enabled: false } }));
    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.reason, /enabled is false/);
  });

  test("missing account and region become visible placeholders", () => {
    assert.equal(
      queueUrl({ metadata: { name: "a.b" } }, {}),
      "https://sqs.REGION.amazonaws.com/ACCOUNT_ID/a-b-nth",
    );
  });
});
