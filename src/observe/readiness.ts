import { setReadinessCheck, setReady } from "./metrics.ts";

export interface CheckState {
  readonly ok: boolean;
  /** Short reason when not ok, shown by /readyz. */
  readonly detail?: string;
}

/**
 * Readiness as a set of named checks that other modules set: "config" at
 * start-up, "kube" from the API client, "source" once the poller or consumer
 * runs. nthd is ready when at least one check is registered and all pass.
 * A check that was declared with `expect` but never set counts as failing, so
 * a source that never starts keeps the pod unready.
 * Check names become the `check` label of `nthd_readiness_check`: keep them a
 * short fixed list, never per-node or per-notice.
 */
export class Readiness {
  readonly #checks = new Map<string, CheckState>();

  /** Declares checks that must pass before nthd is ready, failing until set. */
  expect(...names: string[]): void {
    for (const name of names) {
      if (!this.#checks.has(name)) this.#record(name, { ok: false, detail: "not started" });
    }
  }

  set(name: string, ok: boolean, detail?: string): void {
    this.#record(name, ok || detail === undefined ? { ok } : { ok, detail });
  }

  /** Forgets a check (for a component that stopped on purpose). */
  delete(name: string): void {
    this.#checks.delete(name);
    setReadinessCheck(name, undefined);
    this.#publish();
  }

  get ready(): boolean {
    if (this.#checks.size === 0) return false;
    for (const state of this.#checks.values()) if (!state.ok) return false;
    return true;
  }

  /** What /readyz returns. */
  report(): { ready: boolean; checks: Record<string, CheckState> } {
    return { ready: this.ready, checks: Object.fromEntries(this.#checks) };
  }

  #record(name: string, state: CheckState): void {
    this.#checks.set(name, state);
    setReadinessCheck(name, state.ok);
    this.#publish();
  }

  #publish(): void {
    setReady(this.ready);
  }
}

/** The process-wide readiness that the server reports and components set. */
export const readiness = new Readiness();
