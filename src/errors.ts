/**
 * One catalogue of nthd's errors. Branch on `code`, never on message text.
 * Wrap lower-level failures with `{ cause }` and a short context prefix.
 */
export const ERROR_CODES = [
  "CONFIG_INVALID",
  "USAGE",
  "IMDS_UNREACHABLE",
  "IMDS_BAD_RESPONSE",
  "KUBE_API",
  "KUBE_NODE_NOT_FOUND",
  "EVICTION_BLOCKED",
  "DRAIN_DEADLINE",
  "DRAIN_FAILED",
  "AWS_API",
  /** AWS refused a call (AccessDenied, UnauthorizedOperation); context.action names the IAM action. */
  "AWS_PERMISSION",
  "MESSAGE_INVALID",
  "WEBHOOK",
  /** A body or file over its size limit; context.what names it, context.limitBytes the limit. */
  "BODY_TOO_LARGE",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class NthdError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NthdError";
    this.code = code;
    this.context = options.context ?? {};
  }
}

export function isNthdError(err: unknown, code?: ErrorCode): err is NthdError {
  return err instanceof NthdError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
