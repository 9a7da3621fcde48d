/** What the daemon gives a mode: configuration, clients, the engine and the notice handler. */
import type { LoadedConfig } from "../config/index.ts";
import type { DrainEngine } from "../drain/engine.ts";
import type { KubeClient } from "../kube/client.ts";
import type { NoticeHandler } from "../notice.ts";
import type { Logger } from "../observe/log.ts";

export interface ModeContext {
  readonly loaded: LoadedConfig;
  readonly kube: KubeClient;
  readonly engine: DrainEngine;
  /** The sources' one entry into the engine. */
  readonly handle: NoticeHandler;
  readonly log: Logger;
  readonly signal: AbortSignal;
}
