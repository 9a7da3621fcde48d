/**
 * Builds core/v1 Events the way `kubectl describe` finds them: Node events
 * live in the "default" namespace (a Node has none) with involvedObject
 * naming the node; Pod events live in the pod's namespace.
 */
import type { CoreV1Event, V1ObjectReference } from "@kubernetes/client-node";

/**
 * source.component and reportingComponent of the Events nthd writes unless
 * the caller names another (NTHD_KUBERNETES_EVENTS_COMPONENT).
 */
export const EVENT_COMPONENT = "nthd";

export interface EventInput {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Name of the replica writing, for reportingInstance (the pod name). */
  readonly instance?: string;
  /** Host the subject runs on, for source.host. */
  readonly host?: string;
  /** source.component; nthd's name when absent. */
  readonly component?: string;
}

/** Event messages are capped by the API server at 1 KiB for events.k8s.io; keep core ones short too. */
const MAX_MESSAGE = 1024;

export function buildEvent(
  subject: V1ObjectReference & { name: string },
  input: EventInput,
  now: Date,
): { namespace: string; event: CoreV1Event } {
  const namespace = subject.namespace ?? "default";
  const component = input.component ?? EVENT_COMPONENT;
  const message =
    input.message.length > MAX_MESSAGE
      ? `${input.message.slice(0, MAX_MESSAGE - 1)}…`
      : input.message;
  return {
    namespace,
    event: {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        generateName: `${subject.name}.`,
        namespace,
        ...(input.annotations && Object.keys(input.annotations).length > 0
          ? { annotations: { ...input.annotations } }
          : {}),
      },
      involvedObject: subject,
      type: input.type,
      reason: input.reason,
      message,
      source: { component, ...(input.host ? { host: input.host } : {}) },
      reportingComponent: component,
      reportingInstance: input.instance || component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  };
}

export function nodeRef(name: string, uid?: string): V1ObjectReference & { name: string } {
  return { apiVersion: "v1", kind: "Node", name, ...(uid ? { uid } : {}) };
}

export function podObjectRef(
  namespace: string,
  name: string,
  uid?: string,
): V1ObjectReference & { name: string } {
  return { apiVersion: "v1", kind: "Pod", namespace, name, ...(uid ? { uid } : {}) };
}
