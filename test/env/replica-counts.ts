// What a scenario with several nthd replicas did, counted from outside nthd:
// CordonAndDrain Events on each node (the API server's Events), accepted
// evictions per pod (the API server's audit log), CompleteLifecycleAction
// and heartbeat calls per instance (the moto launcher's record), nthd's
// state label on each node, and what is left in the queue and its
// dead-letter queue.
import { readFileSync } from "node:fs";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { CoreV1Api } from "@kubernetes/client-node";
import { ground, kubeConfig } from "./ground.ts";
import { type LifecycleCall, lifecycleState } from "./moto/start.ts";
import type { World } from "./replica-world.ts";

export interface Figures {
  readonly nodes: number;
  readonly drained: number;
  /** CordonAndDrain Events in all, and nodes with other than exactly one. */
  readonly drainEvents: number;
  readonly nodesNotOneEvent: number;
  readonly pods: number;
  /** Accepted (2xx) evictions in all, and the most any one pod got. */
  readonly evictions: number;
  readonly maxEvictionsPerPod: number;
  /**
   * Pods whose one eviction was answered 504 and nothing else: the replica
   * that sent it was killed mid-request, so the API server could not answer
   * (it may have carried it out; the pod went, and nobody evicted it again).
   */
  readonly lostAnswers: number;
  readonly actions: number;
  /** Accepted CompleteLifecycleAction calls, and actions with other than exactly one. */
  readonly completions: number;
  readonly actionsNotOnce: number;
  /** Everything counted twice or more: extra Events, evictions and completions. */
  readonly duplicates: number;
  readonly queueLeft: number;
  readonly dlqLeft: number;
  /** Pods evicted twice, or never (not even by a request whose answer was lost), with every answer they got. */
  readonly oddPods: readonly string[];
}

/** Every eviction answer the API server gave for pods of a namespace, per pod, from its audit log. */
export function evictionAnswers(namespace: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let text = "";
  try {
    text = readFileSync(ground().auditLog, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    if (!line.includes('"eviction"') || !line.includes(namespace)) continue;
    const e = JSON.parse(line) as {
      stage?: string;
      objectRef?: { namespace?: string; name?: string; subresource?: string };
      responseStatus?: { code?: number };
    };
    const ref = e.objectRef;
    if (e.stage !== "ResponseComplete" || ref?.subresource !== "eviction") continue;
    if (ref.namespace !== namespace) continue;
    const name = ref.name ?? "";
    out.set(name, [...(out.get(name) ?? []), e.responseStatus?.code ?? 0]);
  }
  return out;
}

/** Accepted (2xx) evictions per pod of a namespace, from the audit log. */
export function acceptedEvictions(namespace: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pod, codes] of evictionAnswers(namespace)) {
    const accepted = codes.filter((c) => c >= 200 && c < 300).length;
    if (accepted > 0) out.set(pod, accepted);
  }
  return out;
}

/** How many eviction answers of each status code, e.g. "201:40 429:12". */
export function answerCodes(namespace: string): string {
  const counts = new Map<number, number>();
  for (const codes of evictionAnswers(namespace).values()) {
    for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([c, n]) => `${c}:${n}`)
    .join(",");
}

/** CordonAndDrain Events nthd wrote on each node. */
export async function drainEvents(nodes: readonly string[]): Promise<Map<string, number>> {
  const wanted = new Set(nodes);
  const out = new Map<string, number>(nodes.map((n) => [n, 0]));
  const events = await kubeConfig()
    .makeApiClient(CoreV1Api)
    .listNamespacedEvent({ namespace: "default", fieldSelector: "reason=CordonAndDrain" });
  for (const e of events.items) {
    const node = e.involvedObject.name ?? "";
    if (!wanted.has(node) || e.source?.component !== "nthd") continue;
    out.set(node, (out.get(node) ?? 0) + (e.count ?? 1));
  }
  return out;
}

/** Lifecycle-action calls moto recorded for these instances. */
export async function lifecycleCalls(instanceIds: readonly string[]): Promise<LifecycleCall[]> {
  const ids = new Set(instanceIds);
  const { calls } = await lifecycleState(ground().motoUrl);
  return calls.filter((c) => c.InstanceId !== undefined && ids.has(c.InstanceId));
}

export async function messagesLeft(world: World, url: string): Promise<number> {
  const out = await world.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** nthd's state label on each node of the world. */
export async function nodeStates(world: World): Promise<Map<string, string | undefined>> {
  const nodes = await kubeConfig()
    .makeApiClient(CoreV1Api)
    .listNode({ labelSelector: `world=${world.name}` });
  return new Map(
    nodes.items.map((n) => [n.metadata?.name ?? "", n.metadata?.labels?.["nthd/state"]]),
  );
}

export async function countFigures(
  world: World,
  actionInstances: readonly string[],
): Promise<Figures> {
  const names = world.nodes.map((n) => n.name);
  const events = await drainEvents(names);
  const evictions = acceptedEvictions(world.namespace);
  const answers = evictionAnswers(world.namespace);
  const lost = world.pods.filter(
    (p) => !evictions.has(p) && (answers.get(p) ?? []).some((code) => code === 504),
  );
  const oddPods = world.pods
    .filter((p) => (evictions.get(p) ?? 0) > 1 || (!evictions.has(p) && !lost.includes(p)))
    .map((p) => `${p}:[${(answers.get(p) ?? []).join(",")}]`);
  const completes = (await lifecycleCalls(actionInstances)).filter(
    (c) => c.Operation === "CompleteLifecycleAction" && c.Outcome === "ok",
  );
  const perInstance = new Map<string, number>(actionInstances.map((i) => [i, 0]));
  for (const c of completes)
    perInstance.set(c.InstanceId as string, (perInstance.get(c.InstanceId as string) ?? 0) + 1);
  const states = await nodeStates(world);
  const extra = (counts: Iterable<number>) =>
    [...counts].reduce((s, n) => s + Math.max(0, n - 1), 0);
  return {
    nodes: names.length,
    drained: [...states.values()].filter((s) => s === "drained").length,
    drainEvents: [...events.values()].reduce((s, n) => s + n, 0),
    nodesNotOneEvent: [...events.values()].filter((n) => n !== 1).length,
    pods: names.length * world.podsPerNode,
    evictions: [...evictions.values()].reduce((s, n) => s + n, 0),
    maxEvictionsPerPod: Math.max(0, ...evictions.values()),
    lostAnswers: lost.length,
    actions: actionInstances.length,
    completions: completes.length,
    actionsNotOnce: [...perInstance.values()].filter((n) => n !== 1).length,
    duplicates: extra(events.values()) + extra(evictions.values()) + extra(perInstance.values()),
    queueLeft: await messagesLeft(world, world.queueUrl),
    dlqLeft: await messagesLeft(world, world.dlqUrl),
    oddPods,
  };
}

/** The one line a scenario prints. */
export function figuresLine(
  scenario: string,
  f: Figures,
  extra: Record<string, string | number> = {},
): string {
  const parts = [
    `nodes=${f.nodes}`,
    `drained=${f.drained}`,
    `CordonAndDrain=${f.drainEvents}`,
    `evictions=${f.evictions}/${f.pods} pods (max ${f.maxEvictionsPerPod} per pod${f.lostAnswers > 0 ? `, ${f.lostAnswers} answer(s) lost with a killed replica` : ""})`,
    `completions=${f.completions}/${f.actions} actions`,
    `duplicates=${f.duplicates}`,
    `queue=${f.queueLeft}`,
    `dlq=${f.dlqLeft}`,
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
  ];
  return `[replicas] ${scenario}: ${parts.join(" ")}`;
}
