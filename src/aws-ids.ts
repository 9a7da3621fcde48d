/**
 * EC2 instance ids, one rule for every place that reads one: queue events,
 * instance metadata, spec.providerID and `nthd doctor`. Pure, no imports,
 * so the parsers, the Kubernetes side and the commands can all share it.
 *
 * An instance id is "i-" and 8 (before 2016) or 17 lowercase hex digits;
 * EC2 issues no other length.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html
 */

const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

// A value already typed string is only checked: narrowing it would leave `never` when false.
export function isInstanceId(value: string): boolean;
export function isInstanceId(value: unknown): value is string;
export function isInstanceId(value: unknown): boolean {
  return typeof value === "string" && INSTANCE_ID.test(value);
}

/**
 * `aws:///us-east-1a/i-0123456789abcdef0` -> `i-0123456789abcdef0`
 * (the cloud provider's form; `aws://<zone>/<id>` is read too); undefined
 * when the node is not an EC2 instance (Fargate, kind, another cloud).
 */
export function instanceIdFromProviderId(providerId: string | undefined): string | undefined {
  if (!providerId?.startsWith("aws://")) return undefined;
  const last = providerId.slice("aws://".length).split("/").pop();
  return isInstanceId(last) ? last : undefined;
}

/**
 * The id in an instance ARN (arn:<partition>:ec2:<region>:<account>:instance/i-…).
 * Only the tail is checked: some AWS samples put a zone or nothing where
 * region and account belong.
 */
export function instanceIdFromArn(arn: string): string | undefined {
  const id = /^arn:[a-z-]+:ec2:[^/]*:instance\/(i-[0-9a-f]+)$/.exec(arn)?.[1];
  return isInstanceId(id) ? id : undefined;
}
