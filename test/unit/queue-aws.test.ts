import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isThrottle, operationOf } from "../../src/aws/call-metrics.ts";
import { regionFromQueueUrl, resolveRegion } from "../../src/aws/clients.ts";
import { isNthdError } from "../../src/errors.ts";
import { pollerCount, receiveBackoffMs } from "../../src/sources/queue/consumer.ts";

describe("region", () => {
  test("read from the queue URL forms AWS uses", () => {
    const cases: [string, string | undefined][] = [
      ["https://sqs.us-east-1.amazonaws.com/123456789012/cluster-nth", "us-east-1"],
      ["https://sqs.eu-central-1.amazonaws.com/123456789012/q", "eu-central-1"],
      ["https://sqs.us-gov-west-1.amazonaws.com/123456789012/q", "us-gov-west-1"],
      ["https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"],
      ["https://sqs-fips.us-east-2.amazonaws.com/123456789012/q", "us-east-2"],
      ["https://vpce-0abc-xyz.sqs.ap-southeast-2.vpce.amazonaws.com/1/q", undefined],
      ["https://ap-south-1.queue.amazonaws.com/123456789012/q", "ap-south-1"],
      ["http://127.0.0.1:4566/123456789012/q", undefined],
      ["not a url", undefined],
    ];
    for (const [url, region] of cases) assert.equal(regionFromQueueUrl(url), region, url);
  });

  test("the setting wins; neither set is a configuration error naming the setting", () => {
    const url = "https://sqs.us-west-2.amazonaws.com/1/q";
    assert.equal(resolveRegion({ queueUrl: url, awsRegion: "", awsEndpoint: "" }), "us-west-2");
    assert.equal(
      resolveRegion({ queueUrl: url, awsRegion: "eu-west-1", awsEndpoint: "" }),
      "eu-west-1",
    );
    assert.throws(
      () => resolveRegion({ queueUrl: "http://127.0.0.1:1/1/q", awsRegion: "", awsEndpoint: "" }),
      (err) => isNthdError(err, "CONFIG_INVALID") && err.message.includes("aws-region"),
    );
  });
});

describe("call metrics", () => {
  test("throttling is recognised by the codes SQS, EC2 and Auto Scaling use, and HTTP 429", () => {
    for (const name of [
      "ThrottlingException",
      "Throttling",
      "RequestLimitExceeded",
      "RequestThrottled",
    ]) {
      assert.equal(isThrottle({ name }), true, name);
    }
    assert.equal(isThrottle({ name: "Other", $metadata: { httpStatusCode: 429 } }), true);
    assert.equal(
      isThrottle({ name: "ValidationError", $metadata: { httpStatusCode: 400 } }),
      false,
    );
    assert.equal(isThrottle(undefined), false);
  });
  test("operations are named without the Command suffix; unknown ones are not counted", () => {
    assert.equal(operationOf("ReceiveMessageCommand"), "ReceiveMessage");
    assert.equal(operationOf("CompleteLifecycleActionCommand"), "CompleteLifecycleAction");
    assert.equal(operationOf("CreateQueueCommand"), undefined);
    assert.equal(operationOf(undefined), undefined);
  });
});

describe("consumer sizing", () => {
  test("one poller per ten worker slots", () => {
    assert.equal(pollerCount(1), 1);
    assert.equal(pollerCount(10), 1);
    assert.equal(pollerCount(11), 2);
    assert.equal(pollerCount(100), 10);
  });
  test("receive back-off doubles from 1 s to a 30 s ceiling", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 20].map(receiveBackoffMs),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000],
    );
  });
});
