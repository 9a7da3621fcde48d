/**
 * IMDS mode's source: every enabled monitor polls its metadata item every
 * `imdsPollIntervalMs` and hands each new event to the engine once. Monitors
 * run independently, so a slow or failing item never delays another, and
 * hand-over does not wait for the drain: a cancellation can arrive while the
 * drain it cancels is still running.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../../config/index.ts";
import { errorMessage, NthdError } from "../../errors.ts";
import type { Notice, NoticeHandler } from "../../notice.ts";
import { countImdsError, countParseError, markSourcePolled } from "../../observe/metrics.ts";
import { imdsFailureReason, isTokenFailure, type MetadataReader } from "./client.ts";
import type { InstanceFacts } from "./facts.ts";
import { HandoverLedger } from "./handover.ts";
import {
  enabledMonitors,
  type ImdsMonitorName,
  type ImdsMonitorSpec,
  type MonitorSettings,
} from "./monitors.ts";

/** The slice of a pino logger this module uses. */
export interface ImdsLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ImdsSourceOptions {
  readonly client: MetadataReader;
  readonly config: MonitorSettings & Pick<Config, "imdsPollIntervalMs">;
  readonly instanceId: string;
  /** Optional start-up facts (instance type, zone, region) copied into notice.detail. */
  readonly facts?: Omit<InstanceFacts, "instanceId">;
  /** This instance's node: every notice of this source is for it. */
  readonly nodeName: string;
  /**
   * Takes each notice. A notice whose record on the node fails (or a handler
   * that throws) is handed over again on a later poll.
   */
  readonly handle: NoticeHandler;
  /**
   * Called for every failed poll, unreadable body and failed hand-over, in
   * addition to the metrics this module counts itself.
   */
  readonly onError?: (monitor: ImdsMonitorName, err: unknown) => void;
  /** Called for every poll the metadata service answered (a notice or 404). */
  readonly onAnswer?: () => void;
  readonly log?: ImdsLog;
  /** Stops polling; the returned promise resolves once every monitor has stopped. */
  readonly signal: AbortSignal;
  /** Milliseconds since the epoch, for `receivedAt`. */
  readonly clock?: () => number;
}

/** Polls until `signal` aborts. Never rejects for IMDS or engine failures: they are logged and counted. */
export async function startImdsSource(opts: ImdsSourceOptions): Promise<void> {
  const monitors = enabledMonitors(opts.config);
  opts.log?.info(
    { monitors: monitors.map((m) => m.name), intervalMs: opts.config.imdsPollIntervalMs },
    "IMDS monitors started",
  );
  await Promise.all(monitors.map((m) => runMonitor(m, opts)));
}

async function runMonitor(monitor: ImdsMonitorSpec, opts: ImdsSourceOptions): Promise<void> {
  const poller = new MonitorPoller(monitor, opts);
  while (!opts.signal.aborted) {
    try {
      await poller.pollOnce();
    } catch (err) {
      // pollOnce handles its own failures; this only guards the loop against a bug.
      opts.log?.warn({ monitor: monitor.name, err: errorMessage(err) }, "IMDS poll crashed");
      opts.onError?.(monitor.name, err);
    }
    try {
      await sleep(opts.config.imdsPollIntervalMs, undefined, { signal: opts.signal });
    } catch {
      break; // aborted
    }
  }
}

/** One monitor's state between polls. Exported for the poller's own tests. */
export class MonitorPoller {
  readonly #monitor: ImdsMonitorSpec;
  readonly #opts: ImdsSourceOptions;
  readonly #ledger = new HandoverLedger();
  /** Last error text, so a persistent failure is logged once, not every second. */
  #lastError: string | undefined;

  constructor(monitor: ImdsMonitorSpec, opts: ImdsSourceOptions) {
    this.#monitor = monitor;
    this.#opts = opts;
  }

  get ledger(): HandoverLedger {
    return this.#ledger;
  }

  async pollOnce(): Promise<void> {
    const { client, signal } = this.#opts;
    let answer: Awaited<ReturnType<MetadataReader["get"]>>;
    try {
      answer = await client.get(this.#monitor.path, signal);
    } catch (err) {
      if (!signal.aborted) this.#fail(err);
      return;
    }
    const receivedAt = new Date((this.#opts.clock ?? Date.now)());
    markSourcePolled("imds", receivedAt);
    this.#opts.onAnswer?.();
    if (!answer.found) {
      // 404: nothing pending, the steady state.
      this.#recovered();
      this.#ledger.select([]);
      return;
    }
    const parsed = this.#monitor.parse(answer.body, {
      instanceId: this.#opts.instanceId,
      receivedAt,
    });
    if (!parsed.ok) {
      if ("error" in parsed) {
        countParseError("imds", parsed.stage ?? "schema");
        this.#fail(
          new NthdError("IMDS_BAD_RESPONSE", parsed.error, {
            context: { path: this.#monitor.path },
          }),
        );
        return;
      }
      this.#recovered();
      this.#ledger.select([]);
      return;
    }
    this.#recovered();
    const fresh = this.#ledger.select(
      parsed.notices.map((n) => ({ key: this.#monitor.handoverKey(n), item: n })),
    );
    if (fresh.length > 0) {
      this.#opts.log?.info({ monitor: this.#monitor.name }, parsed.description);
      for (const warning of parsed.warnings ?? []) {
        this.#opts.log?.warn({ monitor: this.#monitor.name }, warning);
      }
    }
    for (const { key, item } of fresh) this.#handOver(key, this.#enrich(item));
  }

  #enrich(notice: Notice): Notice {
    const facts = this.#opts.facts;
    if (!facts || Object.keys(facts).length === 0) return notice;
    return { ...notice, detail: { ...facts, monitor: this.#monitor.name, ...notice.detail } };
  }

  #handOver(key: string, notice: Notice): void {
    const log = this.#opts.log;
    const fields = { monitor: this.#monitor.name, noticeId: notice.id, kind: notice.kind };
    log?.info({ ...fields, action: notice.action }, "handing notice to the engine");
    // Not awaited: the next poll must not wait for a drain (see the module comment).
    // Through a promise so an engine that throws synchronously is a retry, not a crash.
    Promise.resolve(notice)
      .then((n) => this.#opts.handle(n, this.#opts.nodeName).recorded)
      .then(
        () => this.#ledger.settle(key, "done"),
        (err: unknown) => {
          this.#ledger.settle(key, "retry");
          this.#opts.onError?.(this.#monitor.name, err);
          log?.warn(
            { ...fields, err: errorMessage(err) },
            "handing over the notice failed; will retry",
          );
        },
      );
  }

  #fail(err: unknown): void {
    // A failed token request fails every monitor; count it once per poll under "token".
    countImdsError(isTokenFailure(err) ? "token" : this.#monitor.name, imdsFailureReason(err));
    this.#opts.onError?.(this.#monitor.name, err);
    const text = errorMessage(err);
    const fields = { monitor: this.#monitor.name, path: this.#monitor.path, err: text };
    if (text !== this.#lastError) this.#opts.log?.warn(fields, "IMDS poll failed");
    else this.#opts.log?.debug(fields, "IMDS poll failed again");
    this.#lastError = text;
  }

  #recovered(): void {
    if (this.#lastError === undefined) return;
    this.#opts.log?.info({ monitor: this.#monitor.name }, "IMDS poll succeeds again");
    this.#lastError = undefined;
  }
}
