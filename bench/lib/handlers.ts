// How each handler under test is started against the ground: nthd (the
// bundle, or src/ with --source) and aws-node-termination-handler (NTH).
// Each gets only the settings its mode needs, by the names it reads; every
// other setting stays at its default ("defaults against defaults").
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { load } from "js-yaml";
import { freePort } from "../../test/env/peers.ts";
import { type MemoryCgroup, privateRuntime } from "./cgroup.ts";
import { chartMallocEnv, chartMemoryLimitOf } from "./chart-limits.ts";
import type { BenchGround } from "./ground.ts";
import { type HandlerIdentity, installInClusterFiles } from "./identity.ts";
import { type SpawnedProcess, spawnMeasured } from "./proc.ts";
import { waitHttpOk } from "./ready.ts";
import { repoRoot } from "./results.ts";

/**
 * "nthd-before" is nthd from another tree (`--before <dir>`: a checkout with
 * its `dist/` built), run exactly like "nthd" with that tree's chart flags,
 * so a change is measured against the code before it in the same run.
 */
export const HANDLERS = ["nthd", "nthd-before", "nth"] as const;
export type HandlerName = (typeof HANDLERS)[number];

export const NTH_VERSION = process.env.NTH_VERSION ?? "v1.25.6";
export const BENCH_REGION = "us-east-1";

export interface HandlerContext {
  readonly g: BenchGround;
  readonly identity: HandlerIdentity;
  /** Where process logs go. */
  readonly logDir: string;
  /** Run nthd from src/main.ts instead of dist/nthd.mjs. */
  readonly fromSource: boolean;
  /** The tree "nthd-before" runs from (its dist/nthd.mjs and chart flags). */
  readonly beforeDir?: string | undefined;
}

export type LaunchSpec =
  | { readonly mode: "queue"; readonly queueUrl: string }
  | { readonly mode: "imds"; readonly nodeName: string; readonly metadataUrl: string };

export interface RunningHandler {
  readonly name: HandlerName;
  readonly proc: SpawnedProcess;
  /** Date.now() when the handler reported ready. */
  readonly readyAt: number;
  /** Spawn to ready, in ms. */
  readonly readyMs: number;
  /** What "ready" means for this handler (they differ, see docs/benchmarks.md). */
  readonly readySignal: string;
  /** The loopback port of nthd's /metrics, where it serves them (queue mode, as the chart runs it). */
  readonly metricsPort?: number;
  stop(): Promise<void>;
}

export function nthBinary(): string {
  const cache = process.env.NTHD_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "nthd");
  return join(cache, "bin", `nth-${NTH_VERSION}`);
}

/** Why a handler cannot run here, or undefined when it can. */
export function unavailableReason(
  name: HandlerName,
  fromSource: boolean,
  beforeDir?: string,
): string | undefined {
  if (name === "nthd") {
    const bundle = join(repoRoot, "dist", "nthd.mjs");
    return fromSource || existsSync(bundle) ? undefined : `${bundle} missing: run npm run build`;
  }
  if (name === "nthd-before") {
    if (beforeDir === undefined) return "no --before <dir> given";
    const bundle = join(beforeDir, "dist", "nthd.mjs");
    return existsSync(bundle) ? undefined : `${bundle} missing: build that tree first`;
  }
  return existsSync(nthBinary())
    ? undefined
    : `${nthBinary()} missing: run npm run bench:nth-build`;
}

/**
 * The Node.js flags the chart runs a mode with: those of the chart's
 * `files/<mode>-node-flags.txt` (one flag per line, `#` comments), then, as
 * the chart's template adds it, a heap limit of half the memory limit (the
 * given one, else the chart's default for the mode), so the bench measures
 * what users run. Trees whose chart has neither give what they have.
 */
export function modeNodeFlags(
  mode: "imds" | "queue",
  root = repoRoot,
  memoryLimitBytes?: number,
): string[] {
  const file = join(root, "charts", "nthd", "files", `${mode}-node-flags.txt`);
  const flags = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
    : [];
  const limit = memoryLimitBytes ?? chartMemoryLimitOf(mode, root)?.bytes;
  if (limit !== undefined && !flags.some((f) => f.startsWith("--max-old-space-size"))) {
    flags.push(`--max-old-space-size=${Math.floor(limit / 1048576 / 2)}`);
  }
  return flags;
}

/** The DaemonSet's flags (IMDS mode). */
export function imdsNodeFlags(): string[] {
  return modeNodeFlags("imds");
}

/**
 * nthd's kubeconfig as JSON (which is YAML too). In a cluster nthd reads its
 * service account and never loads a YAML parser; the bench cannot install
 * those files without disturbing other runs, so it hands nthd the same
 * kubeconfig in the form nthd parses without one.
 */
function jsonKubeconfig(identity: HandlerIdentity): string {
  const path = `${identity.kubeconfig}.json`;
  if (!existsSync(path)) {
    writeFileSync(path, JSON.stringify(load(readFileSync(identity.kubeconfig, "utf8"))), {
      mode: 0o600,
    });
  }
  return path;
}

/** Base environment: nothing inherited but PATH and HOME; AWS credentials are dummies for moto. */
function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    // Never reach for the real instance metadata address for credentials or region.
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/**
 * IMDS mode for both handlers. The metadata mock serves either Spot notices or
 * scheduled events, never both; with `spot` the scheduled-events path answers
 * 404, which NTH treats as a monitor error (and exits after three in a row).
 * A real instance with nothing scheduled answers "[]". So both handlers run
 * with the scheduled-events monitor off and poll the same Spot path.
 */
function imdsEnv(spec: { nodeName: string; metadataUrl: string }): Record<string, string> {
  return {
    NODE_NAME: spec.nodeName,
    INSTANCE_METADATA_URL: spec.metadataUrl,
    ENABLE_SCHEDULED_EVENT_DRAINING: "false",
  };
}

/**
 * Variables named `<prefix>X` in the bench's own environment, given to the
 * handler as `X`: a way to profile (`BENCH_NTHD_NODE_OPTIONS=--cpu-prof`) or
 * to try a non-default setting without editing the scripts.
 */
export function passThrough(prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith(prefix) && key.length > prefix.length && value !== undefined) {
      out[key.slice(prefix.length)] = value;
    }
  }
  return out;
}

/**
 * `BENCH_NODE_FLAGS`: V8 flags added to nthd's own, space-separated, for
 * diagnostics NODE_OPTIONS refuses (`--trace-gc` shows the heap V8 keeps
 * beside the live objects). Never set for a published figure.
 */
function extraNodeFlags(): string[] {
  return (process.env.BENCH_NODE_FLAGS ?? "").split(/\s+/).filter((f) => f !== "");
}

let inClusterInstalled = false;

export interface LaunchOptions {
  readonly readyTimeoutMs?: number;
  /**
   * Run nthd inside this memory cgroup, from a private copy of Node and the
   * bundle (see cgroup.ts). Not with --source.
   */
  readonly cgroup?: MemoryCgroup;
}

export async function launchHandler(
  name: HandlerName,
  ctx: HandlerContext,
  spec: LaunchSpec,
  label: string,
  opts: LaunchOptions = {},
): Promise<RunningHandler> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const logFile = join(ctx.logDir, `${label}.log`);
  if (name === "nthd" || name === "nthd-before") {
    const before = name === "nthd-before" ? ctx.beforeDir : undefined;
    const probesPort = await freePort();
    const env: Record<string, string> = {
      ...baseEnv(),
      KUBECONFIG: jsonKubeconfig(ctx.identity),
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: String(probesPort),
      NTHD_BIND_ADDRESS: "127.0.0.1",
    };
    // The chart's glibc settings (the image sets them too).
    Object.assign(env, chartMallocEnv(before ?? repoRoot));
    // The chart serves /metrics in queue mode unless told otherwise (and in
    // IMDS mode only with a PodMonitor): measured the way users run it, since
    // prom-client and its default collectors take memory of their own.
    if (spec.mode === "queue") {
      Object.assign(env, {
        ENABLE_PROMETHEUS_SERVER: "true",
        PROMETHEUS_SERVER_PORT: String(await freePort()),
      });
    }
    Object.assign(env, passThrough("BENCH_NTHD_"));
    const metricsPort =
      env.ENABLE_PROMETHEUS_SERVER === "true"
        ? Number(env.PROMETHEUS_SERVER_PORT ?? "9092")
        : undefined;
    if (spec.mode === "queue") {
      Object.assign(env, {
        ENABLE_SQS_TERMINATION_DRAINING: "true",
        QUEUE_URL: spec.queueUrl,
        AWS_REGION: BENCH_REGION,
        AWS_ENDPOINT: ctx.g.state.motoUrl,
      });
    } else {
      Object.assign(env, imdsEnv(spec));
    }
    const entry =
      before !== undefined
        ? join(before, "dist", "nthd.mjs")
        : ctx.fromSource
          ? join(repoRoot, "src", "main.ts")
          : join(repoRoot, "dist", "nthd.mjs");
    const nodeFlags = [
      ...modeNodeFlags(spec.mode, before ?? repoRoot, opts.cgroup?.limitBytes),
      ...extraNodeFlags(),
    ];
    let command = process.execPath;
    let args = [...nodeFlags, entry];
    let dispose = () => {};
    if (opts.cgroup !== undefined) {
      if (ctx.fromSource) throw new Error("a memory cgroup needs the bundle, not --source");
      const runtime = privateRuntime(process.execPath, dirname(entry));
      dispose = runtime.dispose;
      ({ command, args } = opts.cgroup.wrap(runtime.node, [
        ...nodeFlags,
        join(runtime.bundleDir, "nthd.mjs"),
      ]));
    }
    const proc = spawnMeasured(command, args, env, logFile);
    const readyAt = await waitHttpOk(`http://127.0.0.1:${probesPort}/readyz`, {
      timeoutMs: readyTimeoutMs,
      alive: () => !proc.exited(),
    }).catch(async (err: unknown) => {
      await proc.stop();
      dispose();
      throw new Error(`nthd not ready: ${(err as Error).message} (log: ${logFile})`);
    });
    proc.sampler.sample();
    return {
      name,
      proc,
      readyAt,
      readyMs: readyAt - proc.startedAt,
      readySignal: "GET /readyz answers 200",
      metricsPort,
      stop: async () => {
        await proc.stop();
        dispose();
      },
    };
  }

  // NTH builds its Kubernetes client from the in-cluster configuration only.
  if (!inClusterInstalled) {
    installInClusterFiles(ctx.identity);
    inClusterInstalled = true;
  }
  const env: Record<string, string> = {
    ...baseEnv(),
    KUBERNETES_SERVICE_HOST: "127.0.0.1",
    KUBERNETES_SERVICE_PORT: String(ctx.g.apiserverPort),
    // Its probe and metrics servers listen on every interface: keep them off.
    ENABLE_PROBES_SERVER: "false",
    ENABLE_PROMETHEUS_SERVER: "false",
  };
  if (spec.mode === "queue") {
    Object.assign(env, {
      ENABLE_SQS_TERMINATION_DRAINING: "true",
      QUEUE_URL: spec.queueUrl,
      AWS_REGION: BENCH_REGION,
      AWS_ENDPOINT: ctx.g.state.motoUrl,
      // Required even in queue mode (NTH panics without it); used only in its logs.
      NODE_NAME: "nth-bench-queue-processor",
    });
  } else {
    Object.assign(env, imdsEnv(spec));
  }
  const proc = spawnMeasured(nthBinary(), [], env, logFile);
  // NTH has no readiness endpoint; this log line follows the start of its monitors.
  const readyAt = await proc
    .waitForOutput(/has started successfully/, readyTimeoutMs)
    .catch(async (err: unknown) => {
      await proc.stop();
      throw new Error(`NTH not ready: ${(err as Error).message}`);
    });
  proc.sampler.sample();
  return {
    name,
    proc,
    readyAt,
    readyMs: readyAt - proc.startedAt,
    readySignal: 'log line "has started successfully"',
    stop: () => proc.stop(),
  };
}
