/**
 * The queue consumer (src/sources/queue/) running in the test process against
 * moto, with a recording stand-in for the drain engine and a table of nodes:
 * what the queue-consumer-*.test.ts files share.
 */
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { pino } from "pino";
import type { Config } from "../../src/config/index.ts";
import { type QueueSourceOptions, startQueueSource } from "../../src/sources/queue/consumer.ts";
import { createLifecycleActions } from "../../src/sources/queue/lifecycle-actions.ts";
import { createLifecycleDuties } from "../../src/sources/queue/lifecycle-duties.ts";
import { testConfig } from "../support/config.ts";
import type { NodeTable } from "../support/node-table.ts";
import type { RecordingHandler } from "../support/notices.ts";
import type { MotoAws } from "./moto/aws.ts";

const silent = pino({ level: "silent" });

export interface RunningConsumer {
  /** Aborts the consumer and waits until it has released its messages. */
  stop(): Promise<void>;
}

/**
 * Starts the consumer on `queueUrl`: the settings' defaults, but a 2 s
 * visibility timeout, messages for unknown nodes kept, and no heartbeat limit,
 * then `overrides`.
 */
export function startConsumer(
  aws: MotoAws,
  queueUrl: string,
  engine: RecordingHandler,
  nodes: NodeTable,
  overrides: Partial<Config> = {},
  sourceOptions: Partial<QueueSourceOptions> = {},
): RunningConsumer {
  const controller = new AbortController();
  const config = testConfig({
    queueUrl,
    sqsMsgVisibilityTimeoutSeconds: 2,
    deleteSqsMsgIfNodeNotFound: false,
    heartbeatUntilSeconds: -1,
    ...overrides,
  });
  // Like the engine on the replica that owns a node's work, the stand-in
  // hands lifecycle actions to the source's duty handler.
  engine.duties = {
    handler: createLifecycleDuties({
      lifecycle: createLifecycleActions({ autoscaling: aws.autoscaling, log: silent }),
      config,
      log: silent,
      signal: controller.signal,
    }).handle,
    signal: controller.signal,
  };
  const running = startQueueSource({
    config,
    sqs: aws.sqs,
    ec2: aws.ec2,
    autoscaling: aws.autoscaling,
    handle: engine.handle,
    resolver: nodes,
    signal: controller.signal,
    ...sourceOptions,
  });
  return {
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

/** The real EC2 peer, with the instance ids of each DescribeInstances call recorded. */
export function countingEc2(aws: MotoAws) {
  const describeCalls: string[][] = [];
  const ec2 = {
    send: ((command: { input: unknown }, options?: unknown) => {
      if (command instanceof DescribeInstancesCommand) {
        describeCalls.push(command.input.Filters?.[0]?.Values ?? []);
      }
      return aws.ec2.send(command as DescribeInstancesCommand, options as never);
    }) as typeof aws.ec2.send,
  };
  return { ec2, describeCalls };
}
