import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import type { Notice } from "../../src/notice.ts";
import { MONITOR_TABLE } from "../../src/sources/imds/monitors.ts";
import {
  type ParseContext,
  parseAsgTargetLifecycleState,
  parseRebalanceRecommendation,
  parseScheduledEvents,
  parseSpotInstanceAction,
} from "../../src/sources/imds/parse.ts";
import type { Parsed } from "../../src/sources/parse-result.ts";
import { awsEventPath } from "../support/fixtures.ts";

const FIXTURES = awsEventPath("imds");
const ctx: ParseContext = {
  instanceId: "i-1234567890abcdef0",
  receivedAt: new Date("2025-01-15T10:00:00Z"),
};

function body(file: string): string {
  return readFileSync(join(FIXTURES, file), "utf8");
}

function only(parsed: Parsed): Notice {
  assert.ok(parsed.ok, `expected notices, got ${JSON.stringify(parsed)}`);
  assert.equal(parsed.notices.length, 1);
  assert.ok(parsed.description.length > 0);
  return parsed.notices[0] as Notice;
}

/** A fixture from the docs parses without tolerated oddities. */
function onlyClean(parsed: Parsed): Notice {
  const n = only(parsed);
  assert.equal(parsed.ok && parsed.warnings, undefined);
  return n;
}

const polledPaths = Object.values(MONITOR_TABLE).map((m) => m.path);

/** Every fixture file with its README-documented expectation. */
const CASES: Record<string, () => void> = {};

for (const action of ["terminate", "stop"] as const) {
  CASES[`spot-instance-action.${action}.doc.json`] = () => spotCase(action, "doc");
}
CASES["spot-instance-action.hibernate.derived.json"] = () => spotCase("hibernate", "derived");

function spotCase(action: string, kind: string): void {
  const n = onlyClean(
    parseSpotInstanceAction(body(`spot-instance-action.${action}.${kind}.json`), ctx),
  );
  assert.equal(n.kind, "spot-interruption");
  assert.equal(n.action, "drain");
  assert.equal(n.source, "imds");
  assert.equal(n.instanceId, ctx.instanceId);
  assert.equal(n.deadline?.toISOString(), "2017-09-18T08:22:00.000Z");
  assert.equal(n.detail.instanceAction, action);
  assert.equal(n.id, "spot-i-1234567890abcdef0-2017-09-18T08-22-00Z");
}

CASES["spot-termination-time.doc.txt"] = () => {
  // NO-OP: nthd polls spot/instance-action, never the legacy termination-time item.
  assert.ok(!polledPaths.some((p) => p.endsWith("/spot/termination-time")));
  assert.ok(polledPaths.includes("/latest/meta-data/spot/instance-action"));
  const parsed = parseSpotInstanceAction(body("spot-termination-time.doc.txt"), ctx);
  assert.equal(parsed.ok, false);
};

for (const [file, time] of [
  ["rebalance-recommendation.doc.json", "2020-10-27T08:22:00.000Z"],
  ["rebalance-recommendation.categories-table.doc.json", "2020-11-05T08:22:00.000Z"],
] as const) {
  CASES[file] = () => {
    const n = onlyClean(parseRebalanceRecommendation(body(file), ctx));
    assert.equal(n.kind, "rebalance-recommendation");
    assert.equal(n.action, "cordon");
    assert.equal(n.eventTime?.toISOString(), time);
    assert.equal(n.deadline, undefined);
  };
}

const ACTIVE: [string, string, string][] = [
  ["system-reboot-active.doc.json", "system-reboot", "instance-event-0d59937288b749b32"],
  [
    "system-reboot-active-with-deadline.derived.json",
    "system-reboot",
    "instance-event-0d59937288b749b32",
  ],
  ["instance-stop-active.derived.json", "instance-stop", "instance-event-0e439355b779n26"],
  [
    "instance-retirement-active.derived.json",
    "instance-retirement",
    "instance-event-0e439355b779n27",
  ],
  ["instance-reboot-active.derived.json", "instance-reboot", "instance-event-0d59937288b749b33"],
  [
    "system-maintenance-active.derived.json",
    "system-maintenance",
    "instance-event-0d59937288b749b34",
  ],
];
for (const [suffix, code, eventId] of ACTIVE) {
  CASES[`maintenance-scheduled.${suffix}`] = () => {
    const n = onlyClean(parseScheduledEvents(body(`maintenance-scheduled.${suffix}`), ctx));
    assert.equal(n.kind, "scheduled-maintenance");
    assert.equal(n.action, "drain");
    assert.equal(n.id, eventId);
    // Deadline = NotBefore "21 Jan 2019 09:00:43 GMT".
    assert.equal(n.deadline?.toISOString(), "2019-01-21T09:00:43.000Z");
    assert.equal(n.detail.code, code);
    assert.equal(n.detail.eventId, eventId);
    assert.equal(n.detail.unknownCode, undefined);
  };
}

// Active without EventId: the state decides, so it drains under an id made from what it has.
CASES["maintenance-scheduled.instance-stop-active-no-event-id.derived.json"] = () => {
  const parsed = parseScheduledEvents(
    body("maintenance-scheduled.instance-stop-active-no-event-id.derived.json"),
    ctx,
  );
  const n = only(parsed);
  assert.equal(n.action, "drain");
  assert.equal(n.id, "event-instance-stop-21-Jan-2019-09-00-43-GMT");
  assert.equal(n.deadline?.toISOString(), "2019-01-21T09:00:43.000Z");
  assert.match(parsed.ok ? (parsed.warnings?.join() ?? "") : "", /no EventId/);
};

// A pending interruption whose `action` is not a string: drained, the oddity reported.
CASES["spot-instance-action.action-not-a-string.derived.json"] = () => {
  const parsed = parseSpotInstanceAction(
    body("spot-instance-action.action-not-a-string.derived.json"),
    ctx,
  );
  const n = only(parsed);
  assert.equal(n.action, "drain");
  assert.equal(n.deadline?.toISOString(), "2017-09-18T08:22:00.000Z");
  assert.equal(n.detail.instanceAction, "unknown");
  assert.match(parsed.ok ? (parsed.warnings?.join() ?? "") : "", /`action` is a number/);
};

for (const state of ["canceled", "completed"] as const) {
  CASES[`maintenance-scheduled.system-reboot-${state}.derived.json`] = () => {
    const file = `maintenance-scheduled.system-reboot-${state}.derived.json`;
    const n = onlyClean(parseScheduledEvents(body(file), ctx));
    assert.equal(n.kind, "scheduled-maintenance");
    assert.equal(n.action, "uncordon");
    // Its own id (not swallowed as a repeat of the drain), naming the event it cancels.
    assert.equal(n.id, `instance-event-0d59937288b749b32-${state}`);
    assert.equal(n.detail.cancels, "instance-event-0d59937288b749b32");
    assert.equal(n.detail.eventId, "instance-event-0d59937288b749b32");
    assert.equal(n.deadline, undefined);
  };
}

CASES["maintenance-history.canceled-and-completed.doc.json"] = () => {
  // NO-OP: served on events/maintenance/history, which no monitor polls.
  assert.ok(!polledPaths.some((p) => p.includes("/maintenance/history")));
  // Were it served on the scheduled path, one EventId still yields one notice.
  const parsed = parseScheduledEvents(
    body("maintenance-history.canceled-and-completed.doc.json"),
    ctx,
  );
  const n = onlyClean(parsed);
  assert.equal(n.action, "uncordon");
};

const ASG: [string, string, "drain" | "nothing"][] = [
  ["InService.doc.txt", "InService", "nothing"],
  ["Detached.doc-enum.txt", "Detached", "nothing"],
  ["Standby.doc-enum.txt", "Standby", "nothing"],
  ["Terminated.doc-enum.txt", "Terminated", "drain"],
  // README allows draining when the node returns to the warm pool; nthd does.
  ["Warmed-Hibernated.doc-enum.txt", "Warmed:Hibernated", "drain"],
  ["Warmed-Running.doc-enum.txt", "Warmed:Running", "drain"],
  ["Warmed-Stopped.doc-enum.txt", "Warmed:Stopped", "drain"],
  ["Warmed-Terminated.doc-enum.txt", "Warmed:Terminated", "drain"],
];
for (const [file, state, expected] of ASG) {
  CASES[`asg-target-lifecycle-state/${file}`] = () => {
    const parsed = parseAsgTargetLifecycleState(body(`asg-target-lifecycle-state/${file}`), ctx);
    if (expected === "nothing") {
      assert.ok(!parsed.ok && "ignore" in parsed, JSON.stringify(parsed));
      return;
    }
    const n = onlyClean(parsed);
    assert.equal(n.kind, "asg-terminate");
    assert.equal(n.action, "drain");
    assert.equal(n.detail.targetLifecycleState, state);
    assert.equal(n.id, `asg-${ctx.instanceId}-${state.replace(":", "-")}`);
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full) : [relative(FIXTURES, full)];
  });
}

describe("IMDS fixtures", () => {
  // The imdsv2/*.http exchanges are client-level cases, covered in imds-protocol.test.ts.
  const files = listFiles(FIXTURES).filter((f) => !f.startsWith("imdsv2/"));

  it("every fixture file has an expectation", () => {
    assert.deepEqual(files.filter((f) => !(f in CASES)).sort(), []);
  });

  for (const file of files) {
    const run = CASES[file];
    if (run) it(file, run);
  }
});

describe("IMDS parsers: ids and details", () => {
  it("gives the same id for the same event, so redelivered polls dedupe", () => {
    const text = body("maintenance-scheduled.system-reboot-active.doc.json");
    const later = { ...ctx, receivedAt: new Date("2025-01-15T11:00:00Z") };
    assert.equal(
      only(parseScheduledEvents(text, ctx)).id,
      only(parseScheduledEvents(text, later)).id,
    );
    const spot = body("spot-instance-action.terminate.doc.json");
    assert.equal(
      only(parseSpotInstanceAction(spot, ctx)).id,
      only(parseSpotInstanceAction(spot, later)).id,
    );
  });

  it("keeps a spot notice with an unreadable time and assumes the two-minute warning", () => {
    const body = '{"action": "action", "time": "yyyy-mm-ddThh:mm:ssZ"}';
    const parsed = parseSpotInstanceAction(body, ctx);
    const n = only(parsed);
    assert.equal(n.action, "drain");
    assert.equal(n.deadline?.toISOString(), "2025-01-15T10:02:00.000Z");
    assert.equal(n.detail.timeUnparsed, true);
    assert.equal(parsed.ok && parsed.warnings?.length, 1);
  });

  it("drains an active event with an unknown code and flags it", () => {
    const text = JSON.stringify([
      { Code: "future-code", State: "active", EventId: "instance-event-1", NotBefore: "bad" },
    ]);
    const n = only(parseScheduledEvents(text, ctx));
    assert.equal(n.action, "drain");
    assert.equal(n.deadline, undefined);
    assert.equal(n.detail.unknownCode, true);
    assert.equal(n.detail.notBeforeUnparsed, true);
  });

  it("returns one notice per event, drains an active one even without EventId, and keeps good events next to malformed ones", () => {
    const text = JSON.stringify([
      {
        Code: "system-reboot",
        State: "active",
        EventId: "instance-event-a",
        NotBefore: "1 Feb 2025 10:00:00 GMT",
      },
      { Code: "instance-stop", State: "canceled", EventId: "instance-event-b" },
      { Code: "instance-stop", State: "active" },
      "junk",
    ]);
    const parsed = parseScheduledEvents(text, ctx);
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.notices.map((n) => [n.id, n.action]),
      [
        ["instance-event-a", "drain"],
        ["instance-event-b-canceled", "uncordon"],
        ["event-instance-stop-2", "drain"],
      ],
    );
    assert.deepEqual(parsed.warnings, [
      "entry 2 is active but has no EventId; drained as event-instance-stop-2",
      "entry 3 is not an object",
      "event-instance-stop-2: unreadable NotBefore, no deadline",
    ]);
  });

  it("a finished event without EventId names nothing to undo", () => {
    const parsed = parseScheduledEvents(
      JSON.stringify([{ Code: "instance-stop", State: "completed" }]),
      ctx,
    );
    assert.ok(!parsed.ok && "error" in parsed);
    assert.match(parsed.error, /entry 0 has no EventId/);
  });

  it("an odd spot action or rebalance time is reported, never a reason to skip the notice", () => {
    const spot = parseSpotInstanceAction('{"action": 7, "time": "2025-01-15T10:02:00Z"}', ctx);
    assert.ok(spot.ok);
    assert.equal(spot.notices[0]?.action, "drain");
    assert.equal(spot.notices[0]?.deadline?.toISOString(), "2025-01-15T10:02:00.000Z");
    assert.match(spot.warnings?.join() ?? "", /`action` is a number/);
    const rebalance = parseRebalanceRecommendation('{"noticeTime": 1736935200}', ctx);
    assert.ok(rebalance.ok);
    assert.equal(rebalance.notices[0]?.action, "cordon");
    assert.match(rebalance.warnings?.join() ?? "", /unreadable noticeTime 1736935200/);
  });

  it("says nothing is scheduled for an empty list", () => {
    assert.deepEqual(parseScheduledEvents("[]", ctx), { ok: false, ignore: "no scheduled events" });
  });
});

describe("IMDS parsers never throw", () => {
  const bad = [
    "",
    " ",
    "null",
    "[]",
    "{}",
    "[1,2]",
    '{"time": 5, "action": 7}',
    '{"noticeTime": null}',
    '[{"EventId": 5}]',
    '[{"EventId": "e", "State": 7}]',
    "<html><body>404 - Not Found</body></html>",
    "{".repeat(10_000),
    "Terminated\nInService",
    "\u0000\uffff",
  ];
  const parsers = {
    parseSpotInstanceAction,
    parseRebalanceRecommendation,
    parseScheduledEvents,
    parseAsgTargetLifecycleState,
  };
  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name} answers every malformed body with a result`, () => {
      for (const text of bad) {
        const parsed = parse(text, ctx);
        assert.equal(typeof parsed.ok, "boolean", `${name}(${JSON.stringify(text.slice(0, 20))})`);
        if (!parsed.ok) {
          const reason = "error" in parsed ? parsed.error : parsed.ignore;
          assert.ok(reason.length > 0);
        }
      }
    });
  }

  it("reports malformed JSON as an error, not as nothing pending", () => {
    const parsed = parseSpotInstanceAction("<html>", ctx);
    assert.ok(!parsed.ok && "error" in parsed);
    assert.match(parsed.error, /spot\/instance-action: body is not JSON/);
  });
});
