// The demo: a local cluster (real kube-apiserver, controllers, kwok nodes)
// and a real SQS-compatible server; prints the cluster's nodes.
import { CoreV1Api } from "@kubernetes/client-node";
import { createNode, kubeConfig, randomInstanceId, waitNodeReady } from "../test/env/ground.ts";
import { startGround, stopGround } from "../test/env/ground-up.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

const state = await startGround();
try {
  const kc = kubeConfig();
  const names = ["demo-spot-a", "demo-spot-b"];
  for (const name of names) {
    await createNode({ name, instanceId: randomInstanceId() }, kc);
    await waitNodeReady(name, kc);
  }
  const nodes = await kc.makeApiClient(CoreV1Api).listNode();
  say(
    `\nCluster at ${state.apiserverUrl} (Kubernetes ${state.kubeVersion}), SQS-compatible server at ${state.motoUrl}`,
  );
  say("NODE\tPROVIDER ID\tREADY\tUNSCHEDULABLE");
  for (const node of nodes.items) {
    const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "?";
    say(
      `${node.metadata?.name}\t${node.spec?.providerID}\t${ready}\t${node.spec?.unschedulable === true}`,
    );
  }
} finally {
  await stopGround(state);
}
