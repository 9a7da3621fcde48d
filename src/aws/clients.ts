/**
 * The AWS clients queue mode uses (SQS, EC2, Auto Scaling), built once from
 * the configuration. Only queue mode imports this module, so IMDS mode never
 * loads the AWS SDK.
 *
 * Endpoints: `config.awsEndpoint` (NTH's AWS_ENDPOINT) is passed as the
 * client endpoint when set; otherwise the SDK's own AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_<SERVICE> variables apply. Retries use the SDK's adaptive
 * mode, which also rate-limits the client when AWS starts throttling.
 *
 * Timeouts: the SDK's Node handler waits forever by default (only the
 * operating system's socket timeouts, minutes, end a hung call), so one hung
 * call could stall whatever waits on it. Every attempt here is bounded:
 * connection by aws-connect-timeout-seconds, the whole attempt by
 * aws-request-timeout-seconds (a long poll passes its own, longer, bound).
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Config } from "../config/index.ts";
import { NthdError } from "../errors.ts";
import { type AwsCallObserver, countCallsOn } from "./call-metrics.ts";

export interface AwsClients {
  readonly sqs: SQSClient;
  readonly ec2: EC2Client;
  readonly autoscaling: AutoScalingClient;
  readonly region: string;
}

type AwsConfig = Pick<Config, "queueUrl" | "awsRegion" | "awsEndpoint"> &
  Partial<Pick<Config, "awsConnectTimeoutSeconds" | "awsRequestTimeoutSeconds" | "awsMaxAttempts">>;
type Env = Readonly<Record<string, string | undefined>>;

export interface AwsClientOptions {
  /** Static credentials (tests); default: the SDK's credential chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per call including the first; default the aws-max-attempts setting (5). */
  readonly maxAttempts?: number;
  /** Told about every attempt; default: the nthd metrics. */
  readonly observe?: AwsCallObserver;
  /** Environment to read AWS_ENDPOINT_URL* from (default process.env). */
  readonly env?: Env;
}

/**
 * The region in an SQS queue URL: `https://sqs.<region>.amazonaws.com/...`,
 * the VPC-endpoint and FIPS forms, and the legacy `https://<region>.queue.amazonaws.com/...`.
 * Undefined for URLs that name no region (local endpoints).
 */
export function regionFromQueueUrl(queueUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(queueUrl).hostname;
  } catch {
    return undefined;
  }
  const modern = /(?:^|\.)sqs(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(
    host,
  );
  if (modern?.[1]) return modern[1];
  const legacy = /^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return legacy?.[1];
}

/** Region from the setting, else the queue URL; a clear configuration error when neither says. */
export function resolveRegion(config: AwsConfig): string {
  if (config.awsRegion !== "") return config.awsRegion;
  const fromUrl = regionFromQueueUrl(config.queueUrl);
  if (fromUrl !== undefined) return fromUrl;
  throw new NthdError(
    "CONFIG_INVALID",
    `aws-region: not set and the queue URL ${JSON.stringify(config.queueUrl)} names no region; set AWS_REGION or --aws-region`,
  );
}

/** The bound on one attempt of an AWS call; a long poll adds its wait to it. */
export function awsRequestTimeoutMs(config: Pick<AwsConfig, "awsRequestTimeoutSeconds">): number {
  return (config.awsRequestTimeoutSeconds ?? 20) * 1000;
}

export function createAwsClients(config: AwsConfig, options: AwsClientOptions = {}): AwsClients {
  const region = resolveRegion(config);
  const env = options.env ?? process.env;
  const common = {
    region,
    retryMode: "adaptive",
    maxAttempts: options.maxAttempts ?? config.awsMaxAttempts ?? 5,
    requestHandler: {
      connectionTimeout: (config.awsConnectTimeoutSeconds ?? 5) * 1000,
      requestTimeout: awsRequestTimeoutMs(config),
      // Without this a breached requestTimeout is only logged and the call goes on waiting.
      throwOnRequestTimeout: true,
    },
    ...(config.awsEndpoint !== "" ? { endpoint: config.awsEndpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  // The SQS client sends to the queue URL's host unless told otherwise; with
  // any endpoint override (a test server, a VPC endpoint) that would bypass it.
  const sqsOverride =
    config.awsEndpoint !== "" ||
    Boolean(env.AWS_ENDPOINT_URL_SQS) ||
    Boolean(env.AWS_ENDPOINT_URL && env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== "true");
  const sqs = new SQSClient({ ...common, useQueueUrlAsEndpoint: !sqsOverride });
  const ec2 = new EC2Client(common);
  const autoscaling = new AutoScalingClient(common);
  for (const client of [sqs, ec2, autoscaling]) countCallsOn(client, options.observe);
  return { sqs, ec2, autoscaling, region };
}
