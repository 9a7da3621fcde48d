import { setTimeout as sleep } from "node:timers/promises";
import { type Dispatcher, ProxyAgent, request } from "undici";
import type { Config } from "../config/index.ts";
import { errorMessage, NthdError } from "../errors.ts";
import { readTextFileCapped } from "../files.ts";
import { readCapped } from "../http/body.ts";
import type { WebhookAttemptResult } from "./labels.ts";
import type { Logger } from "./log.ts";
import { countWebhook, countWebhookAttempt } from "./metrics.ts";
import { type CompiledTemplate, compileTemplate, type TemplateData } from "./webhook-template.ts";

/** The receiver's answer is read for its status and the start of an error page only. */
export const MAX_WEBHOOK_RESPONSE_BYTES = 64 * 1024;
/** A template is a line or a short document; a file over this is not a template. */
const MAX_TEMPLATE_FILE_BYTES = 1024 * 1024;

export interface WebhookOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly template: CompiledTemplate;
  /** HTTP(S) proxy URL; empty or unset for a direct connection. */
  readonly proxy?: string;
  /** Per attempt, connect to end of response. Default 5000 (as NTH). */
  readonly timeoutMs?: number;
  /** Attempts in total, first included. Default 3. */
  readonly attempts?: number;
  /** Delay before the first retry, doubled each time (with jitter). Default 1000. */
  readonly retryDelayMs?: number;
  /** Notifications in flight at most; more are dropped and counted failed. Default 100. */
  readonly maxInFlight?: number;
  readonly log?: Logger;
}

/**
 * Posts one rendered notification per handled notice. `notify` returns at
 * once: a slow or failing receiver is logged and counted, never awaited by a
 * drain and never thrown. NTH sent once with no retry; nthd retries network
 * errors, timeouts, 429 and 5xx with backoff, a bounded number of times.
 */
export class Webhook {
  readonly #opts: WebhookOptions;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stop = new AbortController();

  constructor(opts: WebhookOptions) {
    this.#opts = opts;
    this.#dispatcher = opts.proxy ? new ProxyAgent(opts.proxy) : undefined;
  }

  /** Fire and forget. Safe to call from any drain path. */
  notify(data: TemplateData): void {
    if (this.#inFlight.size >= (this.#opts.maxInFlight ?? 100)) {
      countWebhook("failed");
      this.#opts.log?.warn({ eventId: data.EventID }, "webhook dropped: too many in flight");
      return;
    }
    const sending = this.send(data).finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }

  /** Sends with retries; resolves true when delivered. Never rejects. */
  async send(data: TemplateData): Promise<boolean> {
    const { log } = this.#opts;
    let body: string;
    try {
      body = this.#opts.template.render(data);
    } catch (err) {
      countWebhook("failed");
      log?.error({ err, eventId: data.EventID }, "webhook template failed to render");
      return false;
    }
    const attempts = Math.max(1, this.#opts.attempts ?? 3);
    let delay = this.#opts.retryDelayMs ?? 1000;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const { result, retryable, detail } = await this.#attempt(body);
      countWebhookAttempt(result);
      if (result === "success") {
        countWebhook("delivered");
        log?.debug({ eventId: data.EventID, attempt }, "webhook delivered");
        return true;
      }
      const last = attempt === attempts || !retryable || this.#stop.signal.aborted;
      log?.warn(
        { eventId: data.EventID, attempt, result, detail, willRetry: !last },
        "webhook failed",
      );
      if (last) break;
      // Full jitter spreads retries from many nodes hitting one receiver.
      const wait = delay / 2 + Math.random() * (delay / 2);
      delay *= 2;
      try {
        await sleep(wait, undefined, { signal: this.#stop.signal });
      } catch {
        break;
      }
    }
    countWebhook("failed");
    return false;
  }

  async #attempt(
    body: string,
  ): Promise<{ result: WebhookAttemptResult; retryable: boolean; detail: string }> {
    const timeout = AbortSignal.timeout(this.#opts.timeoutMs ?? 5000);
    try {
      const res = await request(this.#opts.url, {
        method: "POST",
        headers: { ...this.#opts.headers },
        body,
        signal: AbortSignal.any([timeout, this.#stop.signal]),
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      });
      // Only the status matters, and a few hundred bytes of an error page for
      // the log: a receiver that answers with an endless body is cut off.
      const { bytes, overLimit } = await readCapped(res.body, {
        maxBytes: MAX_WEBHOOK_RESPONSE_BYTES,
        what: "webhook response",
        source: "webhook",
      });
      if (overLimit) {
        this.#opts.log?.warn(
          { status: res.statusCode, limitBytes: MAX_WEBHOOK_RESPONSE_BYTES },
          "webhook response body over its limit: read no further",
        );
      }
      const text = bytes.toString("utf8");
      if (res.statusCode >= 200 && res.statusCode < 300) {
        return { result: "success", retryable: false, detail: "" };
      }
      const retryable = res.statusCode === 429 || res.statusCode >= 500;
      return {
        result: "http-error",
        retryable,
        detail: `HTTP ${res.statusCode}: ${text.slice(0, 200)}`,
      };
    } catch (err) {
      if (timeout.aborted) return { result: "timeout", retryable: true, detail: "timed out" };
      return { result: "network-error", retryable: true, detail: errorMessage(err) };
    }
  }

  /** Waits up to `graceMs` for notifications in flight, then abandons them. */
  async close(graceMs = 5000): Promise<void> {
    const pending = Promise.allSettled([...this.#inFlight]);
    const timer = setTimeout(() => this.#stop.abort(), graceMs);
    await pending; // aborting makes every attempt and backoff end at once
    clearTimeout(timer);
    this.#stop.abort();
    await this.#dispatcher?.close();
  }
}

/**
 * Builds the webhook from the settings, or undefined when WEBHOOK_URL is
 * empty. Reads WEBHOOK_TEMPLATE_FILE and compiles the template now, so a bad
 * template or header stops start-up with CONFIG_INVALID instead of failing
 * at the first interruption.
 */
export async function webhookFromConfig(
  c: Pick<
    Config,
    "webhookUrl" | "webhookProxy" | "webhookHeaders" | "webhookTemplate" | "webhookTemplateFile"
  >,
  log?: Logger,
): Promise<Webhook | undefined> {
  if (c.webhookUrl === "") return undefined;
  let source = c.webhookTemplate;
  let origin = "WEBHOOK_TEMPLATE";
  if (c.webhookTemplateFile !== "") {
    origin = `WEBHOOK_TEMPLATE_FILE ${c.webhookTemplateFile}`;
    try {
      source = readTextFileCapped(c.webhookTemplateFile, MAX_TEMPLATE_FILE_BYTES);
    } catch (err) {
      throw new NthdError("CONFIG_INVALID", `invalid setting ${origin}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }
  try {
    new Headers(c.webhookHeaders);
  } catch (err) {
    throw new NthdError("CONFIG_INVALID", `invalid setting WEBHOOK_HEADERS: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const template = compileTemplate(source, `setting ${origin}`);
  return new Webhook({
    url: c.webhookUrl,
    headers: c.webhookHeaders,
    template,
    ...(c.webhookProxy ? { proxy: c.webhookProxy } : {}),
    ...(log ? { log } : {}),
  });
}
