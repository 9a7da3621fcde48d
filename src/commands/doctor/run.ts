/**
 * Runs doctor's checks for the configured mode and returns them in order.
 * Queue mode: AWS (credentials, queue, access, policy, rules, hooks, test
 * event) then Kubernetes. IMDS mode: metadata reachability then Kubernetes.
 * A check that cannot run because an earlier one failed is skipped, not failed twice.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Config, Mode } from "../../config/index.ts";
import { leaseNamespace } from "../../kube/replica-lease.ts";
import type { SetupClients } from "../setup/aws.ts";
import { type CheckResult, errored, skip } from "./check.ts";
import { checkImds } from "./imds-check.ts";
import { checkNodes, checkRbac, leasePermissions, NTHD_PERMISSIONS } from "./kube-checks.ts";

export interface DoctorInput {
  readonly config: Config;
  readonly mode: Mode;
  readonly cluster?: string;
  readonly sendTestEvent: boolean;
  readonly kubeConfig: KubeConfig;
  /** Injected in tests; otherwise built from the configuration. */
  readonly clients?: SetupClients;
}

export async function runDoctor(input: DoctorInput): Promise<CheckResult[]> {
  const results: CheckResult[] =
    input.mode === "queue" ? await queueChecks(input) : [await checkImds(input.config.metadataUrl)];
  const leases =
    input.mode === "queue" ? leasePermissions(leaseNamespace(input.config.podNamespace)) : [];
  results.push(await checkRbac(input.kubeConfig, [...NTHD_PERMISSIONS, ...leases]));
  if (input.mode === "queue") results.push(await checkNodes(input.kubeConfig));
  return results;
}

async function queueChecks(input: DoctorInput): Promise<CheckResult[]> {
  // Loaded only in queue mode, so IMDS mode never imports the AWS SDK.
  const [aws, queue, rules, { sendTestEvent }] = await Promise.all([
    import("./aws-checks.ts"),
    import("./queue-checks.ts"),
    import("./rule-checks.ts"),
    import("./test-event.ts"),
  ]);
  const { config } = input;
  let clients = input.clients;
  if (clients === undefined) {
    try {
      const { createSetupClients } = await import("../setup/aws.ts");
      clients = createSetupClients(config);
    } catch (err) {
      return [
        errored(
          "aws:credentials",
          "AWS credentials and region",
          err,
          "set AWS_REGION or use a queue URL that names the region",
        ),
      ];
    }
  }
  const awsInput = {
    clients,
    queueUrl: config.queueUrl,
    ...(input.cluster !== undefined ? { cluster: input.cluster } : {}),
    rebalance: config.enableRebalanceDraining || config.enableRebalanceMonitoring,
    managedTag: config.managedTag,
    drainSeconds: config.nodeTerminationGracePeriodSeconds,
  };
  const results: CheckResult[] = [await aws.checkCredentials(clients)];
  if (results[0]?.status === "fail") return results;
  const { result, facts } = await queue.checkQueue(awsInput);
  results.push(result);
  if (facts === undefined) {
    results.push(
      skip("queue:access", "queue access, policy and rules", "the queue could not be read"),
    );
  } else {
    results.push(await queue.checkQueueAccess(awsInput, facts));
    results.push(queue.checkPolicy(awsInput, facts));
    results.push(...(await rules.checkRules(awsInput, facts)));
  }
  // Every permission the daemon uses, whether or not doctor could read the queue itself.
  const { checkPermissions } = await import("./permission-checks.ts");
  results.push(...(await checkPermissions(clients, config.queueUrl)));
  results.push(...(await aws.checkHooks(awsInput)));
  if (input.sendTestEvent && facts !== undefined) {
    results.push(await sendTestEvent(clients, config.queueUrl));
  }
  return results;
}
