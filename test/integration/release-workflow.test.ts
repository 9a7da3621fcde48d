/**
 * The release workflow (.github/workflows/release.yml) checked by actionlint (built from its Go
 * module into the ground), and kept in step with what points at its output: the chart's default
 * image is where the workflow pushes the image for the project's owner, the docs install the
 * chart from where it pushes the chart, and it installs the ground's helm.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadYaml } from "@kubernetes/client-node";
import { peerBinary, pinnedVersions } from "../env/peers.ts";

const REPO = join(new URL(".", import.meta.url).pathname, "..", "..");
const WORKFLOW = join(REPO, ".github", "workflows", "release.yml");
/** The GitHub owner the project publishes under (ghcr.io/nthd/...). */
const OWNER = "nthd";

interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, { steps: { uses?: string; with?: Record<string, string>; run?: string }[] }>;
}

const workflow = loadYaml(readFileSync(WORKFLOW, "utf8")) as Workflow;
/** GitHub's expression for the owner, as the workflow writes it (not a template literal). */
const OWNER_EXPRESSION = ["$", "{{ github.repository_owner }}"].join("");
const asPublished = (value: string) => value.replaceAll(OWNER_EXPRESSION, OWNER);

describe("release workflow", () => {
  test("actionlint finds nothing", () => {
    const run = spawnSync(peerBinary("actionlint"), ["-no-color", WORKFLOW], {
      cwd: REPO,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  });

  test("builds both architectures with the Dockerfile, pushes, and signs image and chart", () => {
    const image = workflow.jobs.image?.steps ?? [];
    const build = image.find((s) => s.uses?.startsWith("docker/build-push-action@"));
    assert.equal(build?.with?.file, "Dockerfile");
    assert.equal(build?.with?.platforms, "linux/amd64,linux/arm64");
    assert.equal(String(build?.with?.push), "true");
    assert.ok(
      image.some((s) => /cosign sign/.test(s.run ?? "")),
      "image signed",
    );
    const chart = workflow.jobs.chart?.steps ?? [];
    assert.ok(
      chart.some((s) => /helm push .*\$CHARTS/.test(s.run ?? "")),
      "chart pushed as OCI",
    );
    assert.ok(
      chart.some((s) => /cosign sign/.test(s.run ?? "")),
      "chart signed",
    );
    const helm = chart.find((s) => s.uses?.startsWith("azure/setup-helm@"));
    assert.equal(helm?.with?.version, pinnedVersions().helm, "the ground's helm");
  });

  test("the chart's default image and the docs point where it publishes", () => {
    const values = loadYaml(readFileSync(join(REPO, "charts", "nthd", "values.yaml"), "utf8")) as {
      image: { repository: string };
    };
    assert.equal(values.image.repository, asPublished(workflow.env.IMAGE as string));
    const chartRef = `${asPublished(workflow.env.CHARTS as string)}/nthd`;
    for (const doc of ["docs/install.md", "docs/migration-from-nth.md"]) {
      assert.ok(
        readFileSync(join(REPO, doc), "utf8").includes(chartRef),
        `${doc} names ${chartRef}`,
      );
    }
  });
});
