/**
 * This replica's Lease and its view of the others', the way controllers do
 * leader election, except that every replica holds a Lease of its own: it
 * renews it every `renewSeconds`, and a list then a watch of the namespace's
 * replica Leases tells it who else is alive. The cost is O(replicas): one
 * renewal per replica per period and one watch each, whatever the number of
 * nodes. The owner of a node's work is recorded on the node by Lease name,
 * so "is the owner alive?" is a map read (the decision itself is
 * src/drain/ownership.ts's).
 *
 * On shutdown the Lease is deleted, so the others adopt the work at once
 * instead of waiting for it to expire.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { sleep } from "../async/sleep.ts";
import { errorMessage } from "../errors.ts";
import { classifyKubeError } from "./api-error.ts";
import type { Lease, LeaseApi } from "./leases.ts";
import { microTime } from "./leases.ts";
import { isExpired } from "./watch.ts";

/** A replica Lease not renewed for this long (or 20 durations) belongs to a replica long gone. */
const STALE_LEASE_MS = 10 * 60_000;

/** Label on every replica Lease; its value names the queue the replica serves (a digest). */
export const REPLICA_LABEL = "nthd/replica-of";

/** What this replica saw of one replica Lease. */
export interface LeaseSighting {
  readonly name: string;
  /** Empty or absent: released. */
  readonly holder: string | undefined;
  /** The REPLICA_LABEL value: replicas with the same one share a queue. */
  readonly group: string | undefined;
  readonly durationSeconds: number;
  /** When its holder says it renewed it (the holder's clock). */
  readonly renewTime: Date | undefined;
  /** When this replica saw it change (this replica's clock). */
  readonly observedAt: Date;
  /**
   * Seen in a list, not as a change: `observedAt` says nothing about its
   * age, only `renewTime` does.
   */
  readonly fromList: boolean;
  readonly resourceVersion: string | undefined;
}

export interface ReplicaLease {
  /** The Lease's name: what node records name as their owner. */
  readonly name: string;
  readonly group: string;
  readonly durationSeconds: number;
  readonly renewSeconds: number;
  /** Creates (or takes back) the own Lease and lists the others; then keeps both current. */
  start(): Promise<void>;
  /** Every replica Lease in the namespace, the own one included. */
  sightings(): LeaseSighting[];
  /** When the own Lease was last renewed (this replica's clock). */
  renewedAt(): Date | undefined;
  /** Called after any change of the view (a Lease renewed, added, deleted). */
  onChange(listener: () => void): void;
  /** Stops renewing and deletes the own Lease: the others take the work over at once. */
  release(): Promise<void>;
}

/** Where a pod's namespace is mounted with its service account token. */
const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The replicas' namespace: the pod's (NAMESPACE), else its service account's, else default. */
export function leaseNamespace(podNamespace: string): string {
  if (podNamespace !== "") return podNamespace;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim() || "default";
  } catch {
    return "default";
  }
}

/** A Lease name for this replica: its pod's name, else host and process (not in a pod). */
export function replicaLeaseName(podName: string, host = hostname(), pid = process.pid): string {
  const base = podName !== "" ? podName : `${host}-${pid}`;
  const name = `nthd-${base}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .slice(0, 253);
  return name.replace(/[^a-z0-9]+$/, "");
}

export function createReplicaLease(opts: {
  api: LeaseApi;
  name: string;
  group: string;
  durationSeconds: number;
  log: Logger;
  clock?: () => Date;
}): ReplicaLease {
  const { api, name, group, durationSeconds, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  // Whole milliseconds: timers and AbortSignal.timeout take nothing else.
  const renewMs = Math.max(1000, Math.round((durationSeconds * 1000) / 3));
  const renewSeconds = renewMs / 1000;
  // Each process is a new holder, so logs and leaseTransitions tell restarts apart.
  const holder = `${name}_${randomBytes(4).toString("hex")}`;
  const seen = new Map<string, LeaseSighting>();
  const listeners: (() => void)[] = [];
  const life = new AbortController();
  let own: Lease | undefined;
  let renewed: Date | undefined;
  let loops: Promise<void>[] = [];

  const notify = () => {
    for (const l of listeners) l();
  };

  function sight(lease: Lease, fromList: boolean): void {
    const spec = lease.spec ?? {};
    const renewTime = spec.renewTime ? new Date(spec.renewTime) : undefined;
    seen.set(lease.metadata.name, {
      name: lease.metadata.name,
      holder: spec.holderIdentity || undefined,
      group: lease.metadata.labels?.[REPLICA_LABEL],
      durationSeconds: spec.leaseDurationSeconds ?? durationSeconds,
      renewTime: renewTime && !Number.isNaN(renewTime.getTime()) ? renewTime : undefined,
      observedAt: clock(),
      fromList,
      resourceVersion: lease.metadata.resourceVersion,
    });
  }

  /**
   * Deletes the Leases of this queue's replicas that stopped renewing long
   * ago (killed pods never delete theirs; their successors have new names).
   * Long ago by their own renewTime: no clock is that far off.
   */
  async function sweep(): Promise<void> {
    const staleMs = Math.max(STALE_LEASE_MS, 20 * durationSeconds * 1000);
    const now = clock().getTime();
    for (const s of seen.values()) {
      if (s.name === name || s.group !== group || s.renewTime === undefined) continue;
      if (now - s.renewTime.getTime() < staleMs) continue;
      await api
        .remove(s.name, s.resourceVersion ? { resourceVersion: s.resourceVersion } : {})
        .then(() => log.info({ lease: s.name }, "deleted the lease of a replica long gone"))
        .catch((err: unknown) =>
          log.debug({ lease: s.name, err: errorMessage(err) }, "could not delete a stale lease"),
        );
    }
  }

  function body(previous: Lease | undefined, transitions: number): Lease {
    const now = microTime(clock());
    return {
      metadata: {
        name,
        labels: { [REPLICA_LABEL]: group },
        ...(previous?.metadata.resourceVersion
          ? { resourceVersion: previous.metadata.resourceVersion }
          : {}),
      },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: durationSeconds,
        acquireTime: previous?.spec?.holderIdentity === holder ? previous.spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: transitions,
      },
    };
  }

  /** Creates the own Lease, or takes it over from an earlier process of the same pod. */
  async function acquire(): Promise<void> {
    const sentAt = clock();
    const existing = await api.get(name);
    if (existing === undefined) {
      own = await api.create(body(undefined, 0));
    } else {
      if (existing.spec?.holderIdentity && existing.spec.holderIdentity !== holder) {
        log.info(
          { lease: name, previous: existing.spec.holderIdentity },
          "taking over this replica's lease from an earlier process",
        );
      }
      own = await api.replace(body(existing, (existing.spec?.leaseTransitions ?? 0) + 1));
    }
    renewed = sentAt;
  }

  async function renew(): Promise<void> {
    // Up to half the duration: a slow API server is no reason to give the Lease up early.
    const timeout = AbortSignal.timeout(Math.max(renewMs, Math.round(durationSeconds * 500)));
    const signal = AbortSignal.any([life.signal, timeout]);
    // Counted from the request, not the answer: the others saw it no later than that.
    const sentAt = clock();
    try {
      own = await api.replace(body(own, own?.spec?.leaseTransitions ?? 0), { signal });
      renewed = sentAt;
    } catch (err) {
      if (life.signal.aborted) return;
      const kind = classifyKubeError(err).kind;
      if (kind === "conflict" || kind === "not-found") {
        // Someone else wrote or deleted it (a second process with this pod's name?): take it back.
        log.warn(
          { lease: name, err: errorMessage(err) },
          "own lease changed under us; re-acquiring",
        );
        await acquire().catch((e: unknown) =>
          log.warn({ lease: name, err: errorMessage(e) }, "could not re-acquire own lease"),
        );
        return;
      }
      log.warn({ lease: name, err: errorMessage(err) }, "could not renew own lease");
    }
  }

  async function renewLoop(): Promise<void> {
    while (await sleep(renewMs, life.signal)) {
      await renew().catch((err: unknown) =>
        log.warn({ lease: name, err: errorMessage(err) }, "renewing own lease failed"),
      );
    }
  }

  async function list(): Promise<string> {
    const { leases, resourceVersion } = await api.list(REPLICA_LABEL, { signal: life.signal });
    seen.clear();
    for (const lease of leases) sight(lease, true);
    notify();
    return resourceVersion;
  }

  /** Watches from `rv`; relists when the watch expires or fails. */
  async function watchLoop(rv: string): Promise<void> {
    let delayMs = 1000;
    while (!life.signal.aborted) {
      try {
        if (rv === "") rv = await list();
        const ended = await new Promise<unknown>((resolve) => {
          api
            .watch(
              REPLICA_LABEL,
              rv,
              (type, lease) => {
                if (lease.metadata?.resourceVersion) rv = lease.metadata.resourceVersion;
                if (type === "ADDED" || type === "MODIFIED") sight(lease, false);
                else if (type === "DELETED") seen.delete(lease.metadata.name);
                else return; // bookmark: only where to resume
                notify();
              },
              resolve,
              life.signal,
            )
            .catch(resolve);
        });
        if (ended !== undefined) throw ended;
        delayMs = 1000;
      } catch (err) {
        if (life.signal.aborted) return;
        if (!isExpired(err)) {
          log.warn({ err: errorMessage(err) }, "lease watch failed; listing again");
          await sleep(delayMs, life.signal);
          // Short: until the watch is back this replica adopts nothing.
          delayMs = Math.min(delayMs * 2, renewMs);
        }
        rv = "";
      }
    }
  }

  return {
    name,
    group,
    durationSeconds,
    renewSeconds,
    async start() {
      await acquire();
      const rv = await list();
      loops = [renewLoop(), watchLoop(rv), sweep()];
      log.info(
        { lease: name, namespace: api.namespace, holder, durationSeconds, replicas: seen.size },
        "replica lease held",
      );
    },
    sightings: () => [...seen.values()],
    renewedAt: () => renewed,
    onChange(listener) {
      listeners.push(listener);
    },
    async release() {
      life.abort(new Error("replica lease released"));
      await Promise.allSettled(loops);
      if (own === undefined) return;
      try {
        // Only the version this process wrote: never a successor's.
        await api.remove(name, {
          ...(own.metadata.resourceVersion
            ? { resourceVersion: own.metadata.resourceVersion }
            : {}),
          signal: AbortSignal.timeout(5000),
        });
        log.info({ lease: name }, "replica lease released; other replicas take the work over");
      } catch (err) {
        log.warn({ lease: name, err: errorMessage(err) }, "could not delete own lease; it expires");
      }
      own = undefined;
    },
  };
}
