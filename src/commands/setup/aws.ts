/**
 * AWS access for setup, teardown and doctor: the three clients they need,
 * built like the daemon's (same endpoint and region rules), and one `call`
 * that turns a refused request into an error naming the IAM action, e.g.
 * "permission denied: events:PutRule (rule c1-SpotInterruption)".
 */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { type AwsClients, createAwsClients } from "../../aws/clients.ts";
import { isAccessDenied } from "../../aws/permissions.ts";
import { errorMessage, NthdError } from "../../errors.ts";

export interface SetupClients {
  readonly sqs: AwsClients["sqs"];
  readonly ec2: AwsClients["ec2"];
  readonly autoscaling: AwsClients["autoscaling"];
  readonly events: EventBridgeClient;
  readonly region: string;
}

export interface SetupAwsConfig {
  readonly awsRegion: string;
  readonly awsEndpoint: string;
  readonly queueUrl?: string;
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export function createSetupClients(
  config: SetupAwsConfig,
  credentials?: Credentials,
): SetupClients {
  const base = createAwsClients(
    {
      queueUrl: config.queueUrl ?? "",
      awsRegion: config.awsRegion,
      awsEndpoint: config.awsEndpoint,
    },
    { maxAttempts: 3, observe: () => {}, ...(credentials ? { credentials } : {}) },
  );
  const events = new EventBridgeClient({
    region: base.region,
    maxAttempts: 3,
    ...(config.awsEndpoint !== "" ? { endpoint: config.awsEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  return {
    sqs: base.sqs,
    ec2: base.ec2,
    autoscaling: base.autoscaling,
    events,
    region: base.region,
  };
}

export { isAccessDenied } from "../../aws/permissions.ts";

export type Service = "sqs" | "events" | "autoscaling";

/**
 * `sqs` + a CreateQueueCommand → `sqs:CreateQueue`. The operation name comes
 * from the command's schema (survives bundling), else the class name.
 */
export function iamAction(service: Service, command: object): string {
  const schema = (command as { schema?: unknown }).schema;
  const operation =
    Array.isArray(schema) && typeof schema[2] === "string"
      ? schema[2]
      : command.constructor.name.replace(/Command$/, "");
  return `${service}:${operation}`;
}

export function errorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : undefined;
}

interface Sendable<Out> {
  send(command: never): Promise<Out>;
}

/**
 * Sends a command; a permission error becomes AWS_PERMISSION naming the IAM
 * action, anything else AWS_API with the action and what it was about.
 */
export async function call<Out>(
  service: Service,
  client: { send(command: never): Promise<unknown> },
  command: object,
  about: string,
): Promise<Out> {
  try {
    return (await (client as Sendable<Out>).send(command as never)) as Out;
  } catch (err) {
    const action = iamAction(service, command);
    if (isAccessDenied(err)) {
      throw new NthdError(
        "AWS_PERMISSION",
        `permission denied: ${action} (${about}): grant ${action} to the identity running nthd`,
        {
          cause: err,
          context: { action, about },
        },
      );
    }
    throw new NthdError(
      "AWS_API",
      `${action} (${about}): ${errorName(err) ?? "error"}: ${errorMessage(err)}`,
      {
        cause: err,
        context: { action, about, awsError: errorName(err) },
      },
    );
  }
}
