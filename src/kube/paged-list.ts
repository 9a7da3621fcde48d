/**
 * Reads a whole collection a page at a time (`limit`/`continue`), handing
 * each page to the caller before the next is asked for, so memory holds one
 * page of raw objects plus what the caller keeps of them, not the whole
 * collection: 10,000 pods as one JSON list are tens of megabytes.
 *
 * A continue token expires after a few minutes (HTTP 410 Gone). The list then
 * starts over, once, with `onRestart` telling the caller to drop what it
 * kept; client-go's pager falls back to a full list instead, which is the
 * very cost paging avoids.
 */

import type { KubeClient, PagedResource } from "./client.ts";
import type { Lane } from "./rate-limit.ts";
import { isExpired } from "./watch.ts";

/** Objects per page: client-go's pager default. */
export const PAGE_SIZE = 500;

export interface ListProgress {
  readonly resource: PagedResource;
  /** Objects read so far. */
  readonly read: number;
  /** read + what the server says remains, when it says. */
  readonly total: number | undefined;
  readonly pages: number;
}

export interface PagedListOptions {
  readonly labelSelector?: string;
  readonly limit?: number;
  readonly lane?: Lane;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ListProgress) => void;
  /** The list started over after an expired token: forget the pages handed over so far. */
  readonly onRestart?: () => void;
}

/** Calls `onPage` with each page's items in order; resolves with the number of objects read. */
export async function listPaged<T>(
  kube: Pick<KubeClient, "listPage">,
  resource: PagedResource,
  onPage: (items: T[]) => void | Promise<void>,
  o: PagedListOptions = {},
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    let read = 0;
    let pages = 0;
    let token: string | undefined;
    try {
      do {
        const page = await kube.listPage<T>(resource, {
          limit: o.limit ?? PAGE_SIZE,
          ...(token !== undefined ? { continue: token } : {}),
          ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
          ...(o.lane ? { lane: o.lane } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
        });
        read += page.items.length;
        pages++;
        await onPage(page.items);
        token = page.continue;
        o.onProgress?.({
          resource,
          read,
          total: page.remaining !== undefined ? read + page.remaining : undefined,
          pages,
        });
      } while (token !== undefined);
      return read;
    } catch (err) {
      if (attempt > 1 || pages === 0 || !isExpired(err)) throw err;
      o.onRestart?.();
    }
  }
}
