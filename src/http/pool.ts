/**
 * A keep-alive HTTP/1.1 connection pool (undici's Pool) and its request().
 * Both the Kubernetes client and the IMDS client use one. They are imported
 * by path instead of from "undici": the package entry also loads fetch,
 * WebSocket, caches, mocks, proxies and every other dispatcher, which costs
 * a process that runs on every node several MiB of memory for nothing.
 * undici has no package "exports" map, so these paths resolve in Node and in
 * the bundle; the declarations are in undici-parts.d.ts.
 */
import type { Dispatcher, Pool } from "undici";
import request from "undici/lib/api/api-request.js";
import PoolClass from "undici/lib/dispatcher/pool.js";

export type PoolOptions = Pool.Options;
export type RequestOptions = Dispatcher.RequestOptions;
export type ResponseData = Dispatcher.ResponseData;

export interface HttpPool {
  /** undici's Dispatcher.request: resolves at the response headers; the body is a stream. */
  request(options: RequestOptions): Promise<ResponseData>;
  close(): Promise<void>;
}

export function createHttpPool(origin: string, options: PoolOptions): HttpPool {
  const pool = new PoolClass(origin, options);
  return {
    request: (opts) => request.call(pool, opts),
    close: () => pool.close(),
  };
}
