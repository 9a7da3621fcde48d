// A queue-mode fault scenario on the real ground: an SQS queue with a
// dead-letter queue, Spot warnings and Auto Scaling terminate hooks for
// instances with kwok nodes, nthd run as its own process, and the tally
// every scenario prints:
//   scenario: notices=N handled=N lost=0 doubled=0 dlq=0 restarts=0
// handled: a Spot warning's node carries nthd's cordon and record; a
// terminate hook is completed with CONTINUE (its node, if any, cordoned).
// doubled: a notice recorded again after it was recorded once, a lifecycle
// action completed more than once, or a pod evicted more than once.
// dlq: messages in the dead-letter queue. restarts: nthd exits it did not
// take (a crash restarts it, as its Deployment would).
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import { DeleteQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { CoreV1Api } from "@kubernetes/client-node";
import { eventually } from "../support/eventually.ts";
import { createNode, deployPinned, ground, kubeConfig, podsOnNode } from "./ground.ts";
import {
  createManagedGroup,
  createQueue,
  MANAGED_TAG,
  type MotoAws,
  motoClients,
  motoEnv,
  queueDepth,
  REGION,
} from "./moto/aws.ts";
import { lifecycleState, openLifecycleAction } from "./moto/start.ts";
import { type NthdProcess, startNthd } from "./nthd-process.ts";

const region = REGION;

export interface Tally {
  readonly notices: number;
  readonly handled: number;
  readonly lost: number;
  readonly doubled: number;
  readonly dlq: number;
  readonly restarts: number;
}

export function tallyLine(t: Tally): string {
  return `scenario: notices=${t.notices} handled=${t.handled} lost=${t.lost} doubled=${t.doubled} dlq=${t.dlq} restarts=${t.restarts}`;
}

interface SentNotice {
  readonly kind: "spot" | "terminate";
  readonly instanceId: string;
  readonly nodeName: string | undefined;
  readonly token?: string;
  readonly sentAt: number;
}

export interface ScenarioOptions {
  readonly name: string;
  /** The dead-letter queue's redrive policy (nthd setup uses 5). */
  readonly maxReceiveCount: number;
  /** Auto Scaling instances to make for terminate hooks. */
  readonly asgInstances?: number;
}

export class QueueScenario {
  readonly aws: MotoAws;
  readonly sent: SentNotice[] = [];
  readonly namespace: string;
  queueUrl = "";
  dlqUrl = "";
  readonly group: string;
  readonly hook = "nthd-terminate";
  #asgFree: string[] = [];
  #nthd: NthdProcess | undefined;
  #nthdEnv: Record<string, string> = {};
  #outputs: string[] = [];
  #restarts = 0;
  #stopping = false;
  readonly #nodes: string[] = [];

  readonly opts: ScenarioOptions;

  private constructor(opts: ScenarioOptions) {
    this.opts = opts;
    this.aws = motoClients(ground().motoUrl);
    const suffix = Math.random().toString(36).slice(2, 8);
    this.namespace = `${opts.name}-${suffix}`;
    this.group = `${opts.name}-asg-${suffix}`;
  }

  static async create(opts: ScenarioOptions): Promise<QueueScenario> {
    const s = new QueueScenario(opts);
    const q = await createQueue(s.aws.sqs, s.namespace, {
      dlq: true,
      maxReceiveCount: opts.maxReceiveCount,
    });
    s.queueUrl = q.url;
    s.dlqUrl = q.dlqUrl as string;
    await kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: s.namespace } } });
    if ((opts.asgInstances ?? 0) > 0) await s.#makeGroup(opts.asgInstances ?? 0);
    return s;
  }

  async #makeGroup(size: number): Promise<void> {
    this.#asgFree = await createManagedGroup(this.aws.autoscaling, this.group, size, [
      {
        name: this.hook,
        transition: "autoscaling:EC2_INSTANCE_TERMINATING",
        heartbeatTimeout: 600,
        defaultResult: "CONTINUE",
      },
    ]);
  }

  /** A kwok node for the instance, deleted when the scenario closes. */
  async node(name: string, instanceId: string, labels: Record<string, string> = {}): Promise<void> {
    await createNode({ name, instanceId, labels });
    this.#nodes.push(name);
  }

  /** Tagged EC2 instances with a kwok node each (node names `<prefix>-<i>`). */
  async spotNodes(
    count: number,
    prefix = "spot",
  ): Promise<{ instanceId: string; nodeName: string }[]> {
    const out = await this.aws.ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: count,
        MaxCount: count,
        InstanceType: "m5.large",
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: MANAGED_TAG, Value: "" }] }],
      }),
    );
    const ids = (out.Instances ?? []).map((i) => i.InstanceId as string);
    return Promise.all(
      ids.map(async (instanceId, i) => {
        const nodeName = `${this.namespace}-${prefix}-${i}`;
        await this.node(nodeName, instanceId);
        return { instanceId, nodeName };
      }),
    );
  }

  /** The next Auto Scaling instance, with a kwok node unless `withNode` is false. */
  async asgInstance(
    withNode = true,
    prefix = "asg",
  ): Promise<{ instanceId: string; nodeName?: string }> {
    const instanceId = this.#asgFree.shift();
    if (instanceId === undefined)
      throw new Error("no Auto Scaling instance left: raise asgInstances");
    if (!withNode) return { instanceId };
    const nodeName = `${this.namespace}-${prefix}-${instanceId.slice(-6)}`;
    await this.node(nodeName, instanceId);
    return { instanceId, nodeName };
  }

  /**
   * A Deployment whose pods run on `nodeName` (evicted by its drain); they
   * are placed by `nodeSelector` when given (default: the node's hostname).
   */
  async workload(
    nodeName: string,
    replicas = 1,
    nodeSelector: Record<string, string> = { "kubernetes.io/hostname": nodeName },
  ): Promise<void> {
    await deployPinned(this.namespace, nodeName.slice(-40).replace(/^[^a-z]+/, "w"), {
      replicas,
      nodeSelector,
    });
  }

  /** Pods of the scenario still running on the node. */
  async podsOn(nodeName: string): Promise<number> {
    return (await podsOnNode(this.namespace, nodeName)).length;
  }

  /** A Spot interruption warning, as EventBridge delivers it to the queue. */
  async sendSpot(instanceId: string, nodeName: string): Promise<void> {
    const body = {
      version: "0",
      id: crypto.randomUUID(),
      "detail-type": "EC2 Spot Instance Interruption Warning",
      source: "aws.ec2",
      account: "123456789012",
      time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      region,
      resources: [`arn:aws:ec2:${region}:123456789012:instance/${instanceId}`],
      detail: { "instance-id": instanceId, "instance-action": "terminate" },
    };
    await this.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body) }),
    );
    this.sent.push({ kind: "spot", instanceId, nodeName, sentAt: Date.now() });
  }

  /** Opens the instance's terminate lifecycle action and sends its EventBridge event. */
  async sendTerminate(instanceId: string, nodeName: string | undefined): Promise<void> {
    const action = await openLifecycleAction(ground().motoUrl, {
      AutoScalingGroupName: this.group,
      LifecycleHookName: this.hook,
      InstanceId: instanceId,
    });
    const body = {
      version: "0",
      id: crypto.randomUUID(),
      "detail-type": "EC2 Instance-terminate Lifecycle Action",
      source: "aws.autoscaling",
      account: "123456789012",
      time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      region,
      resources: [
        `arn:aws:autoscaling:${region}:123456789012:autoScalingGroup:x:autoScalingGroupName/${this.group}`,
      ],
      detail: {
        LifecycleActionToken: action.LifecycleActionToken,
        AutoScalingGroupName: this.group,
        LifecycleHookName: this.hook,
        EC2InstanceId: instanceId,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
      },
    };
    await this.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body) }),
    );
    this.sent.push({
      kind: "terminate",
      instanceId,
      nodeName,
      token: action.LifecycleActionToken,
      sentAt: Date.now(),
    });
  }

  /** Starts nthd in queue mode; an exit it was not asked for is a restart (and it is started again). */
  startNthd(env: { kubeconfig: string; awsEndpoint?: string } & Record<string, string>): void {
    const { kubeconfig, awsEndpoint, ...rest } = env;
    this.#nthdEnv = {
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      QUEUE_URL: this.queueUrl,
      ...motoEnv(awsEndpoint ?? ground().motoUrl),
      KUBECONFIG: kubeconfig,
      NODE_TERMINATION_GRACE_PERIOD: "60",
      SQS_MSG_VISIBILITY_TIMEOUT_SEC: "5",
      LOG_LEVEL: "info",
      ...rest,
    };
    this.#spawn();
  }

  #spawn(): void {
    const proc = startNthd(this.#nthdEnv);
    this.#nthd = proc;
    void proc.exited().then(() => {
      // Its output moves to the finished ones (and is counted once).
      this.#outputs.push(proc.output());
      if (this.#nthd === proc) this.#nthd = undefined;
      if (this.#stopping) return;
      this.#restarts++;
      this.#spawn();
    });
  }

  /** Waits until nthd logs that its consumer runs. */
  async nthdStarted(timeoutMs = 60_000): Promise<void> {
    await eventually(
      "nthd's queue consumer started",
      async () => (this.output().includes("queue consumer started") ? true : undefined),
      timeoutMs,
    );
  }

  /** nthd's log lines (JSON) with this message, across every nthd process of the scenario. */
  logged(message: string): number {
    return this.output().split(`"message":${JSON.stringify(message)}`).length - 1;
  }

  /** Everything every nthd process of the scenario printed. */
  output(): string {
    return [...this.#outputs, this.#nthd?.output() ?? ""].join("");
  }

  async stopNthd(): Promise<void> {
    this.#stopping = true;
    const proc = this.#nthd;
    if (proc !== undefined) {
      await proc.stop();
      await proc.exited();
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Is this notice handled (see the header)? */
  async isHandled(n: SentNotice): Promise<boolean> {
    if (n.nodeName !== undefined) {
      const node = await kubeConfig().makeApiClient(CoreV1Api).readNode({ name: n.nodeName });
      if (!node.spec?.unschedulable || !node.metadata?.annotations?.["nthd/record"]) return false;
    }
    if (n.kind === "spot") return true;
    const { actions } = await lifecycleState(ground().motoUrl);
    const action = actions.find((a) => a.LifecycleActionToken === n.token);
    return action?.State === "Completed" && action.Result === "CONTINUE";
  }

  /** Waits (up to `timeoutMs`) until every notice sent is handled; false if some are not. */
  async allHandled(timeoutMs: number): Promise<boolean> {
    try {
      await eventually(
        "every notice handled",
        async () => ((await this.handledCount()) === this.sent.length ? true : undefined),
        timeoutMs,
      );
      return true;
    } catch {
      return false;
    }
  }

  async handledCount(): Promise<number> {
    let handled = 0;
    for (const n of this.sent) if (await this.isHandled(n)) handled++;
    return handled;
  }

  depth(url: string): Promise<number> {
    return queueDepth(this.aws.sqs, url);
  }

  /** The scenario's figures, from the cluster, moto and nthd's own log lines. */
  async tally(): Promise<Tally> {
    const handled = await this.handledCount();
    const { calls } = await lifecycleState(ground().motoUrl);
    const tokens = new Set(this.sent.flatMap((n) => (n.token ? [n.token] : [])));
    const completions = new Map<string, number>();
    for (const c of calls) {
      if (c.Operation !== "CompleteLifecycleAction" || !tokens.has(c.LifecycleActionToken ?? ""))
        continue;
      completions.set(
        c.LifecycleActionToken ?? "",
        (completions.get(c.LifecycleActionToken ?? "") ?? 0) + 1,
      );
    }
    const recorded = new Map<string, number>();
    const evicted = new Map<string, number>();
    for (const line of this.output().split("\n")) {
      if (!line.startsWith("{")) continue;
      let entry: { message?: string; noticeId?: string; pod?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.message === "notice recorded on the node" && entry.noticeId)
        recorded.set(entry.noticeId, (recorded.get(entry.noticeId) ?? 0) + 1);
      if (entry.message === "pod evicted" && entry.pod)
        evicted.set(entry.pod, (evicted.get(entry.pod) ?? 0) + 1);
    }
    let doubled = 0;
    for (const m of [completions, recorded, evicted])
      for (const n of m.values()) doubled += Math.max(0, n - 1);
    return {
      notices: this.sent.length,
      handled,
      lost: this.sent.length - handled,
      doubled,
      dlq: await this.depth(this.dlqUrl),
      restarts: this.#restarts,
    };
  }

  async close(): Promise<void> {
    await this.stopNthd();
    const core = kubeConfig().makeApiClient(CoreV1Api);
    for (const name of this.#nodes) await core.deleteNode({ name }).catch(() => {});
    await kubeConfig()
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: this.namespace })
      .catch(() => {});
    for (const url of [this.queueUrl, this.dlqUrl]) {
      if (url) await this.aws.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
    }
    for (const c of [this.aws.sqs, this.aws.ec2, this.aws.autoscaling, this.aws.eventbridge])
      c.destroy();
  }
}
