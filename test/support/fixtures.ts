/**
 * Where the tests find their fixture files. Paths are resolved from this
 * module's own location (import.meta.url), so a test reads the same files
 * whatever the working directory, and never anything outside the repository.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** test/fixtures/aws-events/: AWS payloads (SQS bodies, IMDS responses), see its README. */
export const AWS_EVENTS_DIR = fileURLToPath(new URL("../fixtures/aws-events/", import.meta.url));

/** The instance id the AWS documentation's examples name, and so most fixtures. */
export const FIXTURE_INSTANCE = "i-1234567890abcdef0";

/**
 * Absolute path of `rel` inside test/fixtures/aws-events/ (a file or a folder,
 * e.g. "sqs/eventbridge/spot-interruption-warning.doc.json" or "imds/imdsv2").
 * Throws when `rel` is absolute or climbs out of the fixture folder.
 */
export function awsEventPath(rel = ""): string {
  const full = resolve(AWS_EVENTS_DIR, rel);
  const inside = relative(AWS_EVENTS_DIR, full);
  if (isAbsolute(rel) || inside.startsWith("..") || isAbsolute(inside)) {
    throw new Error(`fixture path ${JSON.stringify(rel)} leaves test/fixtures/aws-events/`);
  }
  return full;
}

/**
 * Contents (UTF-8) of a fixture file under test/fixtures/aws-events/, with
 * each key of `replace` replaced everywhere by its value (an instance id, a
 * lifecycle action token: what a test sends must name its own resources).
 */
export function readAwsEvent(rel: string, replace: Readonly<Record<string, string>> = {}): string {
  let body = readFileSync(awsEventPath(rel), "utf8");
  for (const [from, to] of Object.entries(replace)) body = body.replaceAll(from, to);
  return body;
}
