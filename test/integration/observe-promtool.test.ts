import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { cacheDir } from "../env/peers.ts";

/** promtool built by the test ground's scripts (bin/promtool-<version>), if present. */
function promtool(): string | undefined {
  const bin = join(cacheDir(), "bin");
  let names: string[] = [];
  try {
    names = readdirSync(bin);
  } catch {
    return undefined;
  }
  const found = names
    .filter((n) => /^promtool(-|$)/.test(n))
    .sort()
    .at(-1);
  return found === undefined ? undefined : join(bin, found);
}

const tool = promtool();
const dashboards = fileURLToPath(new URL("../../dashboards/", import.meta.url));
const skip =
  tool === undefined
    ? "promtool is not built (expected in the test ground's bin directory)"
    : false;

describe("alert rules under promtool", { skip }, () => {
  it("check rules accepts dashboards/nthd-alerts.yaml", () => {
    const out = execFileSync(tool as string, ["check", "rules", "nthd-alerts.yaml"], {
      cwd: dashboards,
      encoding: "utf8",
    });
    assert.match(out, /SUCCESS/);
  });
  it("the rule unit tests pass", () => {
    execFileSync(tool as string, ["test", "rules", "nthd-alerts.test.yaml"], {
      cwd: dashboards,
      encoding: "utf8",
    });
  });
});
