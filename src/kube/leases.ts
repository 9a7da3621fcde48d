/**
 * coordination.k8s.io/v1 Leases in one namespace: the calls queue-mode
 * replicas make to say they are alive (one Lease each) and to see each
 * other. Built on the client's generic request, so the rate limit, timeouts
 * and error kinds are the same as for every other call.
 * https://kubernetes.io/docs/concepts/architecture/leases/
 */
import type { ApiRequest, CallOptions, KubeClient, WatchEventType } from "./client.ts";

export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  /** MicroTime text (RFC 3339 with microseconds). */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface Lease {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly resourceVersion?: string;
  };
  readonly spec?: LeaseSpec;
}

export interface LeaseApi {
  readonly namespace: string;
  create(lease: Lease, opts?: CallOptions): Promise<Lease>;
  /** PUT: the lease's resourceVersion is a precondition (409 when someone wrote it since). */
  replace(lease: Lease, opts?: CallOptions): Promise<Lease>;
  /** The lease, or undefined when there is none. */
  get(name: string, opts?: CallOptions): Promise<Lease | undefined>;
  /** Deletes it; with `resourceVersion`, only that version (409 otherwise). Absent already: done. */
  remove(name: string, opts?: CallOptions & { resourceVersion?: string }): Promise<void>;
  list(
    labelSelector: string,
    opts?: CallOptions,
  ): Promise<{ leases: Lease[]; resourceVersion: string }>;
  watch(
    labelSelector: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, lease: Lease) => void,
    onEnd: (err: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

const isNotFound = (err: unknown): boolean =>
  typeof err === "object" &&
  err !== null &&
  (err as { context?: { kind?: unknown } }).context?.kind === "not-found";

export function leaseApi(kube: KubeClient, namespace: string): LeaseApi {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const one = (name: string) => `${base}/${encodeURIComponent(name)}`;
  const send = <T>(what: string, req: ApiRequest, opts?: CallOptions) =>
    kube.request<T>(what, req, { lane: "urgent", ...opts });
  const withKind = (lease: Lease): Lease => ({
    ...lease,
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
  });

  return {
    namespace,
    create: (lease, opts) =>
      send(
        `creating lease ${namespace}/${lease.metadata.name}`,
        { method: "POST", path: base, body: withKind(lease) },
        opts,
      ),
    replace: (lease, opts) =>
      send(
        `renewing lease ${namespace}/${lease.metadata.name}`,
        { method: "PUT", path: one(lease.metadata.name), body: withKind(lease) },
        opts,
      ),
    async get(name, opts) {
      try {
        return await send<Lease>(
          `reading lease ${namespace}/${name}`,
          { method: "GET", path: one(name) },
          opts,
        );
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async remove(name, opts) {
      const rv = opts?.resourceVersion;
      try {
        await send(
          `deleting lease ${namespace}/${name}`,
          {
            method: "DELETE",
            path: one(name),
            ...(rv ? { body: { preconditions: { resourceVersion: rv } } } : {}),
          },
          opts,
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async list(labelSelector, opts) {
      const out = await send<{ items?: Lease[]; metadata?: { resourceVersion?: string } }>(
        `listing leases in ${namespace}`,
        { method: "GET", path: base, query: { labelSelector } },
        opts,
      );
      return { leases: out.items ?? [], resourceVersion: out.metadata?.resourceVersion ?? "" };
    },
    watch: (labelSelector, resourceVersion, onEvent, onEnd, signal) =>
      kube.watchPath(
        `watching leases in ${namespace}`,
        base,
        { labelSelector, resourceVersion },
        (type, obj) => onEvent(type, obj as unknown as Lease),
        onEnd,
        signal,
      ),
  };
}
