// Types for the two undici modules nthd imports by path (see pool.ts).
// undici ships declarations for its package entry only; these borrow them.

declare module "undici/lib/dispatcher/pool.js" {
  import type { Pool } from "undici";

  /** The pool class alone: without undici's entry module, no request()/stream() methods. */
  const PoolClass: new (
    url: string | URL,
    options?: Pool.Options,
  ) => Pick<Pool, "dispatch" | "close" | "destroy">;
  export default PoolClass;
}

declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici";

  /** undici's request(), called with the dispatcher as `this`. */
  function request(
    this: Pick<Dispatcher, "dispatch">,
    options: Dispatcher.RequestOptions,
  ): Promise<Dispatcher.ResponseData>;
  export default request;
}
