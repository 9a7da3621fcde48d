// Settings from flags and environment: each value parser's accepted forms and
// messages, and loadConfig's errors naming the setting, the value and what is allowed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  bool,
  float,
  int,
  jsonStringMap,
  keyValueList,
  oneOf,
  type ParsedValue,
  text,
  url,
} from "../../src/config/parse-values.ts";
import { type LoadedConfig, loadConfig, SETTINGS } from "../../src/config.ts";
import { isNthdError } from "../../src/errors.ts";

function value<T>(parsed: ParsedValue<T>): T {
  assert.ok(parsed.ok, `expected a value, got: ${parsed.ok ? "" : parsed.message}`);
  return parsed.value;
}

function message(parsed: ParsedValue<unknown>): string {
  assert.ok(!parsed.ok, `expected a refusal, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe("value parsers", () => {
  test("booleans: Go's ParseBool words plus yes/no/on/off, any case, trimmed", () => {
    for (const raw of ["1", "t", "TRUE", " yes ", "y", "On"]) assert.equal(value(bool(raw)), true);
    for (const raw of ["0", "f", "False", "no", "N", "off"]) assert.equal(value(bool(raw)), false);
    assert.equal(message(bool("maybe")), "expected true or false");
  });

  test("whole numbers within bounds", () => {
    const port = int(1, 65535);
    assert.equal(value(port(" 9092 ")), 9092);
    assert.equal(value(port("+1")), 1);
    for (const raw of ["0", "65536", "1.5", "1e3", "", "x"]) {
      assert.equal(message(port(raw)), "expected a whole number from 1 to 65535");
    }
  });

  test("numbers within bounds", () => {
    const qps = float(0.1, 10000);
    assert.equal(value(qps("0.5")), 0.5);
    assert.equal(value(qps("1e3")), 1000);
    for (const raw of ["", " ", "0.05", "NaN", "Infinity", "ten"]) {
      assert.equal(message(qps(raw)), "expected a number from 0.1 to 10000");
    }
  });

  test("one of a list, case-insensitive, in canonical spelling", () => {
    const effect = oneOf(["NoSchedule", "NoExecute"] as const);
    assert.equal(value(effect("noexecute")), "NoExecute");
    assert.equal(message(effect("Never")), "expected one of NoSchedule, NoExecute");
  });

  test("text as given; URLs http or https, empty allowed", () => {
    assert.equal(value(text("  a b ")), "  a b ");
    assert.equal(value(url("")), "");
    assert.equal(value(url("https://hooks.example.com/x")), "https://hooks.example.com/x");
    for (const raw of ["ftp://example.com", "example.com", "http//x"]) {
      assert.equal(message(url(raw)), "expected an http:// or https:// URL");
    }
  });

  test("JSON objects of strings", () => {
    assert.deepEqual(value(jsonStringMap('{"a":"1","B":"x y"}')), { a: "1", B: "x y" });
    for (const raw of ['{"a":1}', '["a"]', "null", "{"]) {
      assert.match(message(jsonStringMap(raw)), /^expected a JSON object of strings/);
    }
  });

  test("k=v pairs, trimmed; empty is none", () => {
    assert.deepEqual(value(keyValueList(" team = a ,env=prod=1")), { team: "a", env: "prod=1" });
    assert.deepEqual(value(keyValueList(" ")), {});
    assert.equal(
      message(keyValueList("a=1,broken")),
      'expected k=v,k2=v2; "broken" has no key=value',
    );
  });
});

function refused(argv: string[], env: Record<string, string>, pattern: RegExp): void {
  assert.throws(
    () => loadConfig(argv, env),
    (err: unknown) => {
      assert.ok(isNthdError(err, "CONFIG_INVALID"), String(err));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe("loadConfig", () => {
  const imds = { NODE_NAME: "n1" };

  test("defaults come from the settings table", () => {
    const { config, mode }: LoadedConfig = loadConfig([], imds);
    assert.equal(mode, "imds");
    assert.equal(config.enablePrometheusServer, SETTINGS.enablePrometheusServer.default);
    assert.equal(config.prometheusServerPort, 9092);
    assert.equal(config.kubeApiQps, SETTINGS.kubeApiQps.default);
  });

  test("a flag wins over the environment; values are parsed to their types", () => {
    const { config } = loadConfig(["--prometheus-server-port=9100", "--dry-run"], {
      ...imds,
      PROMETHEUS_SERVER_PORT: "9200",
      TAINT_EFFECT: "noexecute",
      WEBHOOK_HEADERS: '{"X-Team":"a"}',
    });
    assert.equal(config.prometheusServerPort, 9100);
    assert.equal(config.dryRun, true);
    assert.equal(config.taintEffect, "NoExecute");
    assert.deepEqual(config.webhookHeaders, { "X-Team": "a" });
  });

  test("a bad value names the setting, the value and what is allowed", () => {
    refused(
      [],
      { ...imds, PROMETHEUS_SERVER_PORT: "http" },
      /^invalid setting PROMETHEUS_SERVER_PORT="http": expected a whole number from 1 to 65535$/,
    );
    refused(
      ["--dry-run=perhaps"],
      imds,
      /^invalid setting --dry-run="perhaps": expected true or false$/,
    );
  });
});
