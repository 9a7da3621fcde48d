/**
 * The drain slots (max-concurrent-drains): a counting semaphore whose waiters
 * can be cancelled. Only the eviction phase takes a slot; cordons never do.
 */
export interface Slots {
  acquire(signal: AbortSignal): Promise<void>;
  release(): void;
}

export function createSlots(size: number): Slots {
  let free = size;
  const queue: Array<() => void> = [];
  return {
    async acquire(signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw signal.reason;
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = queue.indexOf(grant);
          if (i !== -1) queue.splice(i, 1);
          reject(signal.reason);
        };
        queue.push(grant);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
    release(): void {
      const next = queue.shift();
      if (next) next();
      else free++;
    },
  };
}
