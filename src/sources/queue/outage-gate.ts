/**
 * The consumer's gate on the systems a notice needs (the decisions are in
 * health-gate.ts): told of every failure and success by the message handler,
 * it closes the receive loop while a system is down and wakes held messages
 * as soon as it answers again.
 *
 * It also probes the Kubernetes API itself: every few seconds while all is
 * well (a frozen API server makes requests hang rather than fail, and a hung
 * record would otherwise be learned only after its timeouts and retries), and
 * every second while the API is down, so held work goes on within about a
 * second of the API server's return.
 */
import { sleep } from "../../async/sleep.ts";
import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../observe/log.ts";
import {
  afterFailure,
  afterSuccess,
  type Dependency,
  failing,
  type GateState,
  kubeOutage,
  mayReceive,
  OPEN_GATE,
  reopenAtMs,
} from "./health-gate.ts";

export interface OutageGateOptions {
  readonly log: Logger;
  /** One cheap Kubernetes API call; any answer counts as up, a throw as down. */
  readonly kubeProbe?: (signal: AbortSignal) => Promise<unknown>;
  readonly probeIntervalMs?: number;
  readonly probeWhileDownMs?: number;
  readonly probeTimeoutMs?: number;
  readonly now?: () => number;
}

export class OutageGate {
  readonly #opts: OutageGateOptions;
  readonly #now: () => number;
  #state: GateState = OPEN_GATE;
  /** Called when a system answers again (held messages retry) or the gate opens. */
  readonly #wakers = new Set<() => void>();

  constructor(opts: OutageGateOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get open(): boolean {
    return mayReceive(this.#state, this.#now());
  }

  isDown(dep: Dependency): boolean {
    return this.#state.failingSince[dep] !== undefined;
  }

  failed(dep: Dependency, err: unknown): void {
    const wasDown = this.isDown(dep);
    this.#state = afterFailure(this.#state, dep, this.#now());
    if (!wasDown) {
      this.#opts.log.warn(
        { system: dep, err: errorMessage(err) },
        "a system notices need is failing: receiving paused, messages held",
      );
    }
  }

  answered(dep: Dependency): void {
    const before = this.#state;
    this.#state = afterSuccess(before, dep);
    if (before === this.#state) return;
    const since = before.failingSince[dep] ?? this.#now();
    this.#opts.log.info(
      { system: dep, downMs: this.#now() - since, stillFailing: failing(this.#state) },
      "a failing system answers again: held messages go on",
    );
    for (const wake of [...this.#wakers]) wake();
  }

  /** Resolves true once the gate is open, false when `signal` aborts first. */
  async waitOpen(signal: AbortSignal): Promise<boolean> {
    while (!this.open) {
      const quiet = reopenAtMs(this.#state) - this.#now();
      if (!(await this.#waitWake(Math.max(quiet, 100), signal))) return false;
    }
    return !signal.aborted;
  }

  /**
   * A held message's pause before its next try: `ms`, or less when a failing
   * system answers again. False when `signal` aborted (shutdown).
   */
  async pause(ms: number, signal: AbortSignal): Promise<boolean> {
    return this.#waitWake(ms, signal);
  }

  /** Probes the Kubernetes API until `signal` aborts (no-op without a probe). */
  async runProbes(signal: AbortSignal): Promise<void> {
    const probe = this.#opts.kubeProbe;
    if (probe === undefined) return;
    while (!signal.aborted) {
      const down = this.isDown("kube");
      const wait = down
        ? (this.#opts.probeWhileDownMs ?? 1000)
        : (this.#opts.probeIntervalMs ?? 5000);
      if (!(await this.#waitWake(wait, signal, !down))) return;
      try {
        await probe(
          AbortSignal.any([signal, AbortSignal.timeout(this.#opts.probeTimeoutMs ?? 4000)]),
        );
        this.answered("kube");
      } catch (err) {
        if (signal.aborted) return;
        // Only "unavailable" closes the gate: a probe refused for another
        // reason (RBAC, say) must not stop the consumer for good.
        if (kubeOutage(err)) this.failed("kube", err);
        else this.#opts.log.debug({ err: errorMessage(err) }, "API probe failed");
      }
    }
  }

  /** Waits `ms` or until woken; `wakeable` false sleeps through wakes. */
  #waitWake(ms: number, signal: AbortSignal, wakeable = true): Promise<boolean> {
    if (!wakeable) return sleep(ms, signal);
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const done = (result: boolean) => {
        this.#wakers.delete(wake);
        signal.removeEventListener("abort", onAbort);
        if (timer !== undefined) clearTimeout(timer);
        resolve(result);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = Number.isFinite(ms) ? setTimeout(wake, ms) : undefined;
      this.#wakers.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
