/**
 * Property-based test of the configuration loader: any environment (every
 * variable nthd reads, deprecated names included, with values that fit,
 * values that do not, odd Unicode and huge strings, plus unknown variables)
 * and any flags. Every case: no throw other than a clear error, at most
 * 50 ms, and either a loaded configuration or CONFIG_INVALID naming the
 * setting (USAGE naming the flag, for flags).
 */
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadConfig, SETTINGS } from "../../src/config/index.ts";
import { isNthdError } from "../../src/errors.ts";
import { assertProperty, CaseTimer, fuzzParams } from "../support/fuzz.ts";
import { anyString } from "../support/fuzz-inputs.ts";

const SPECS = Object.values(SETTINGS);
const ENV_NAMES = SPECS.flatMap((s) => s.env);
const FLAGS = SPECS.flatMap((s) => [s.flag, ...(s.deprecatedFlags ?? [])]);
const NAMES = new Set([...ENV_NAMES, ...FLAGS.map((f) => `--${f}`)]);

/** Values that fit some setting, and values that fit none. */
const value = fc.oneof(
  fc.constantFrom(
    "",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "5",
    "30",
    "120",
    "3600",
    "172800",
    "65535",
    "70000",
    "0.5",
    "1e3",
    "info",
    "debug",
    "NoExecute",
    "queue",
    "imds",
    "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    "http://169.254.169.254",
    "127.0.0.1",
    "::1",
    '{"Content-type":"application/json"}',
    '{"a":1}',
    "a=b,c=d",
    "=",
    "node-1",
  ),
  anyString,
);

const env = fc.dictionary(
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ENV_NAMES) }, anyString),
  value,
  { maxKeys: 12 },
);
const argv = fc.array(
  fc.oneof(
    fc.tuple(fc.constantFrom(...FLAGS), value).map(([f, v]) => `--${f}=${v}`),
    fc.constantFrom(...FLAGS).map((f) => `--${f}`),
    value,
    anyString.map((s) => `--${s}`),
  ),
  { maxLength: 4 },
);

describe("configuration loader, fuzzed", () => {
  it("loads, or names the setting that is wrong", (t) => {
    const timer = new CaseTimer();
    const seen = { loaded: 0, invalid: 0, usage: 0 };
    assertProperty(
      fc.property(argv, env, fc.boolean(), (args, vars, withNode) => {
        const input = { args, vars: withNode ? { NODE_NAME: "node-1", ...vars } : vars };
        timer.run(input, ({ args: a, vars: v }) => {
          try {
            loadConfig(a, v);
            seen.loaded++;
          } catch (err) {
            if (isNthdError(err, "CONFIG_INVALID")) {
              const named = /^invalid setting (\S+?)=/.exec(err.message)?.[1];
              if (named === undefined || !NAMES.has(named)) {
                throw new Error(`CONFIG_INVALID that names no setting: ${err.message}`);
              }
              seen.invalid++;
            } else if (isNthdError(err, "USAGE")) {
              if (!/option|flag|argument/.test(err.message))
                throw new Error(`USAGE without a flag: ${err.message}`);
              seen.usage++;
            } else throw err;
          }
        });
      }),
      fuzzParams(),
    );
    t.diagnostic(`${timer.summary("config")} ${JSON.stringify(seen)}`);
  });
});
