/**
 * Counts every AWS API attempt by operation and result (success, error,
 * throttled). The middleware sits inside the SDK's retry loop, so a call that
 * is throttled twice and then succeeds counts two throttles and one success:
 * throttling is visible even when retries hide it from the caller.
 */
import { AWS_OPERATIONS, type AwsCallResult, type AwsOperation } from "../observe/labels.ts";
import { countAwsCall } from "../observe/metrics.ts";

export type AwsCallObserver = (operation: AwsOperation, result: AwsCallResult) => void;

const OPERATIONS: ReadonlySet<string> = new Set(AWS_OPERATIONS);

// Error codes AWS services use for throttling (SQS, EC2 and Auto Scaling
// differ), as classified by the SDK's own retry strategy.
const THROTTLE_CODES: ReadonlySet<string> = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "RequestThrottled",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "SlowDown",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
]);

export function isThrottle(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof e.name === "string" && THROTTLE_CODES.has(e.name)) return true;
  return e.$metadata?.httpStatusCode === 429;
}

/** "ReceiveMessageCommand" → "ReceiveMessage" when it is one nthd counts. */
export function operationOf(commandName: string | undefined): AwsOperation | undefined {
  const name = commandName?.replace(/Command$/, "");
  return name !== undefined && OPERATIONS.has(name) ? (name as AwsOperation) : undefined;
}

interface StackClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: never) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: never) => Promise<unknown>,
      options: { step: "finalizeRequest"; priority: "low"; name: string },
    ): void;
  };
}

/** Adds the counting middleware to an SDK v3 client. */
export function countCallsOn(client: unknown, observe: AwsCallObserver = countAwsCall): void {
  (client as StackClient).middlewareStack.add(
    (next, context) => async (args) => {
      const operation = operationOf(context.commandName);
      try {
        const out = await next(args);
        if (operation !== undefined) observe(operation, "success");
        return out;
      } catch (err) {
        if (operation !== undefined) observe(operation, isThrottle(err) ? "throttled" : "error");
        throw err;
      }
    },
    { step: "finalizeRequest", priority: "low", name: "nthdCallMetrics" },
  );
}
