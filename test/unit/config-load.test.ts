// Settings from flags and environment: each value parser's accepted forms and
// messages, the allowed text help and docs show (taken from the parser and
// checked here against what loadConfig accepts), and the table's mode and
// cross-setting rules, whose errors name the setting, the value and what is allowed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type AnySetting,
  allowedText,
  CHECKS,
  type Config,
  configurationReference,
  helpText,
  type LoadedConfig,
  loadConfig,
  SETTINGS,
  type SettingKey,
} from "../../src/config/index.ts";
import {
  bool,
  float,
  int,
  intOr,
  jsonStringMap,
  keyValueList,
  oneOf,
  type ParsedValue,
  text,
  url,
} from "../../src/config/parse-values.ts";
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

  test("whole numbers within bounds, or one sentinel outside them", () => {
    const interval = intOr(-1, 30, 3600);
    assert.equal(value(interval("-1")), -1);
    assert.equal(value(interval("30")), 30);
    for (const raw of ["-2", "0", "29", "3601", ""]) {
      assert.equal(message(interval(raw)), "expected -1 or a whole number from 30 to 3600");
    }
  });

  test("each parser describes what it accepts", () => {
    assert.equal(bool.accepts, "true|false");
    assert.equal(int(1, 43200).accepts, "integer 1..43200");
    assert.equal(intOr(-1, 30, 3600).accepts, "-1 or integer 30..3600");
    assert.equal(float(0.1, 10000).accepts, "number 0.1..10000");
    assert.equal(oneOf(["imds", "queue"] as const).accepts, "imds|queue");
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

// --- the allowed text is the parser's, and means what it says ---------------

const KEYS = Object.keys(SETTINGS) as SettingKey[];
const spec = (key: SettingKey): AnySetting => SETTINGS[key];
const QUEUE = {
  NODE_NAME: "n1",
  ENABLE_SQS_TERMINATION_DRAINING: "true",
  QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/q",
};
/** A valid configuration to set one more variable in (heartbeat-until needs an interval). */
const base = (key: SettingKey) =>
  key === "heartbeatUntilSeconds" ? { ...QUEUE, HEARTBEAT_INTERVAL: "30" } : QUEUE;

/** What one setting's parser description promises: raw values accepted and refused. */
function promises(accepts: string): { ok: string[]; refused: string[]; bounds: string[] } {
  let m = /^(?:(-?\d+) or )?integer (-?\d+)\.\.(\d+)$/.exec(accepts);
  if (m) {
    const [min, max] = [Number(m[2]), Number(m[3])];
    const ok = [String(min), String(max), ...(m[1] ? [m[1]] : [])];
    return { ok, refused: [String(min - 1), String(max + 1)], bounds: [m[2], m[3]] as string[] };
  }
  m = /^number ([\d.]+)\.\.([\d.]+)$/.exec(accepts);
  if (m) {
    const [min, max] = [Number(m[1]), Number(m[2])];
    return {
      ok: [String(min), String(max)],
      refused: [String(min - 0.01), String(max + 0.01)],
      bounds: [m[1], m[2]] as string[],
    };
  }
  m = /^negative or integer 0\.\.(\d+)$/.exec(accepts);
  if (m) {
    return {
      ok: ["0", m[1] as string, "-1"],
      refused: [String(Number(m[1]) + 1), "x"],
      bounds: [],
    };
  }
  m = /^(\w+), (-\d+) or integer (\d+)\.\.(\d+)$/.exec(accepts);
  if (m) {
    const [min, max] = [Number(m[3]), Number(m[4])];
    return {
      ok: [m[1] as string, m[2] as string, String(min), String(max)],
      refused: [String(min - 1), String(max + 1)],
      bounds: [m[3], m[4]] as string[],
    };
  }
  if (/^[\w-]+(\|[\w-]+)+$/.test(accepts)) {
    const values = accepts.split("|");
    return { ok: values, refused: ["bogus"], bounds: values };
  }
  const free: Record<string, { ok: string[]; refused: string[] }> = {
    text: { ok: ["any text"], refused: [] },
    "http(s) URL": { ok: ["https://example.com/x"], refused: ["ftp://example.com"] },
    "http(s):// or tcp:// URL": {
      ok: ["http://proxy:3128", "https://proxy"],
      refused: ["ftp://example.com", "proxy:3128"],
    },
    "JSON object of strings": { ok: ['{"a":"b"}'], refused: ['{"a":1}'] },
    "k=v,k2=v2": { ok: ["a=b,c=d"], refused: ["a"] },
    "IP address": { ok: ["127.0.0.1", "::", "10.0.0.5"], refused: ["localhost", "0.0.0.0:80"] },
  };
  const known = free[accepts];
  assert.ok(known, `no test for a parser that accepts "${accepts}": add one here`);
  return { ...known, bounds: [] };
}

describe("allowed values in --help and the docs come from the parser", () => {
  const help = helpText("test");
  const docs = configurationReference();

  test("help and docs show the parser's description; hints only on free text", () => {
    for (const key of KEYS) {
      const s = spec(key);
      const shown = s.hint ?? s.parse.accepts;
      assert.equal(s.hint === undefined, s.parse.accepts !== "text", `${key}: hint iff free text`);
      assert.ok(allowedText(s).startsWith(shown), key);
      assert.ok(help.includes(`--${s.flag} <${allowedText(s)}>`), `${key} in --help`);
      const cell = allowedText(s).replaceAll("|", "\\|");
      assert.ok(docs.includes(`| ${cell} |`), `${key} in the docs`);
    }
  });

  for (const key of KEYS) {
    const s = spec(key);
    const env = s.env[0] as string;
    test(`${env}: ${s.parse.accepts}`, () => {
      const { ok, refused: bad, bounds } = promises(s.parse.accepts);
      for (const raw of ok) {
        const { config } = loadConfig([], { ...base(key), [env]: raw });
        const parsed = s.parse(raw);
        assert.ok(parsed.ok);
        assert.deepEqual(config[key], parsed.value, `${env}=${raw}`);
      }
      for (const raw of bad) {
        assert.throws(
          () => loadConfig([], { ...base(key), [env]: raw }),
          (err: unknown) => {
            assert.ok(isNthdError(err, "CONFIG_INVALID"), String(err));
            assert.ok(err.message.startsWith(`invalid setting ${env}=${JSON.stringify(raw)}: `));
            for (const b of bounds) assert.ok(err.message.includes(b), `${err.message} names ${b}`);
            return true;
          },
        );
      }
    });
  }
});

describe("rules in the table", () => {
  const imds = { NODE_NAME: "n1" };

  test("SQS_MSG_VISIBILITY_TIMEOUT_SEC: 1..43200 in queue mode, as help says", () => {
    assert.equal(allowedText(SETTINGS.sqsMsgVisibilityTimeoutSeconds), "integer 1..43200");
    const at = (raw: string) =>
      loadConfig([], { ...QUEUE, SQS_MSG_VISIBILITY_TIMEOUT_SEC: raw }).config;
    assert.equal(at("120").sqsMsgVisibilityTimeoutSeconds, 120);
    assert.equal(at("43200").sqsMsgVisibilityTimeoutSeconds, 43200);
    for (const raw of ["0", "43201"]) {
      refused(
        [],
        { ...QUEUE, SQS_MSG_VISIBILITY_TIMEOUT_SEC: raw },
        new RegExp(
          `^invalid setting SQS_MSG_VISIBILITY_TIMEOUT_SEC="${raw}": expected a whole number from 1 to 43200$`,
        ),
      );
    }
  });

  test("a setting required in the mode", () => {
    refused([], {}, /^invalid setting NODE_NAME="": required in imds mode$/);
    refused(["--mode=queue"], imds, /^invalid setting QUEUE_URL="": required in queue mode$/);
  });

  test("a setting of the other mode", () => {
    refused(
      ["--heartbeat-interval", "60"],
      imds,
      /^invalid setting --heartbeat-interval="60": applies to queue mode only$/,
    );
    // NTH's charts set -1 ("unset") in both modes.
    const { config } = loadConfig([], { ...imds, HEARTBEAT_INTERVAL: "-1", HEARTBEAT_UNTIL: "-1" });
    assert.equal(config.heartbeatIntervalSeconds, -1);
    assert.equal(config.heartbeatUntilSeconds, SETTINGS.heartbeatUntilSeconds.default);
  });

  test("cross-setting rules name the setting, its value and the rule", () => {
    refused(
      [],
      { ...QUEUE, HEARTBEAT_UNTIL: "600" },
      /^invalid setting HEARTBEAT_UNTIL="600": needs HEARTBEAT_INTERVAL in seconds as well$/,
    );
    refused(
      [],
      { ...QUEUE, HEARTBEAT_INTERVAL: "3600", HEARTBEAT_UNTIL: "600" },
      /^invalid setting HEARTBEAT_INTERVAL="3600": must not exceed HEARTBEAT_UNTIL$/,
    );
    const heartbeats = (env: Record<string, string>): Pick<Config, "heartbeatUntilSeconds"> =>
      loadConfig([], { ...QUEUE, ...env }).config;
    assert.equal(heartbeats({ HEARTBEAT_INTERVAL: "60" }).heartbeatUntilSeconds, 172_800);
    assert.equal(
      heartbeats({ HEARTBEAT_INTERVAL: "60", HEARTBEAT_UNTIL: "600" }).heartbeatUntilSeconds,
      600,
    );
    const docs = configurationReference();
    for (const check of CHECKS) assert.ok(docs.includes(check.rule), check.rule);
  });

  test("NTH's meanings: -1 turns heartbeats off, any negative grace period is the pod's own, tcp:// proxies", () => {
    const q = (env: Record<string, string>) => loadConfig([], { ...QUEUE, ...env }).config;
    assert.equal(q({}).heartbeatIntervalSeconds, "auto");
    assert.equal(q({ HEARTBEAT_INTERVAL: "-1" }).heartbeatIntervalSeconds, -1);
    assert.equal(q({ POD_TERMINATION_GRACE_PERIOD: "-5" }).podTerminationGracePeriodSeconds, -1);
    assert.equal(q({ GRACE_PERIOD: "-30" }).podTerminationGracePeriodSeconds, -1);
    assert.equal(
      q({ WEBHOOK_PROXY: "tcp://proxy.internal:3128" }).webhookProxy,
      "http://proxy.internal:3128",
    );
  });

  test("a bare boolean flag is true; other flags need a value", () => {
    assert.equal(loadConfig(["--dry-run", "x"], imds).config.dryRun, true);
    assert.throws(
      () => loadConfig(["--workers"], imds),
      (err: unknown) =>
        isNthdError(err, "USAGE") && err.message === "option --workers needs a value",
    );
  });
});
