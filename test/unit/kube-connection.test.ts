// Reading a kubeconfig's text: JSON without the YAML parser, anything else as
// YAML, and the same connection either way.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isNthdError } from "../../src/errors.ts";
import { parseKubeconfig } from "../../src/kube/connection.ts";
import { connectionFromKubeconfigs } from "../../src/kube/kubeconfig.ts";

const YAML = `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c1
  cluster: { server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true }
contexts:
- name: main
  context: { cluster: c1, user: u1 }
users:
- name: u1
  user: { token: abc }
`;

const asJson = (doc: unknown) => JSON.stringify(doc, null, 2);
const noFiles = (path: string): string => {
  throw new Error(`ENOENT: ${path}`);
};

describe("kubeconfig text", () => {
  test("JSON and YAML of the same kubeconfig give the same connection", async () => {
    const fromYaml = await parseKubeconfig("/k/config", YAML);
    const fromJson = await parseKubeconfig("/k/config.json", `  ${asJson(fromYaml)}`);
    assert.deepEqual(fromJson, fromYaml);
    const connect = (doc: unknown) =>
      connectionFromKubeconfigs([{ path: "/k/config", doc }], noFiles);
    const conn = connect(fromJson);
    assert.equal(conn.server, "https://10.0.0.1:6443");
    assert.deepEqual(conn.auth, { kind: "token", token: "abc" });
    assert.deepEqual(connect(fromYaml), conn);
  });

  test("YAML flow style that starts like JSON is still read as YAML", async () => {
    const doc = await parseKubeconfig("/k/config", "{apiVersion: v1, kind: Config}");
    assert.deepEqual(doc, { apiVersion: "v1", kind: "Config" });
  });

  test("text that is neither is a configuration error naming the file", async () => {
    await assert.rejects(
      parseKubeconfig("/k/broken", "clusters: [\n  - name: c1\n  oops"),
      (err) => {
        assert.ok(isNthdError(err, "CONFIG_INVALID"), String(err));
        assert.match(err.message, /^kubeconfig \/k\/broken: not valid YAML/);
        return true;
      },
    );
  });
});
