// Kubeconfig documents -> connection settings: which fields are read, which
// win, and that every unusable file is refused naming the file and field.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { load } from "js-yaml";
import { isNthdError } from "../../src/errors.ts";
import { connectionFromKubeconfigs, type KubeconfigFile } from "../../src/kube/kubeconfig.ts";

const CA = "-----BEGIN CERTIFICATE-----\nQ0EtY2VydA==\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nY2xpZW50\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN EC PRIVATE KEY-----\na2V5\n-----END EC PRIVATE KEY-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Files the kubeconfigs point at; anything else is "missing". */
const disk: Record<string, string> = {
  "/etc/kube/ca.crt": CA,
  "/etc/kube/pki/admin.crt": CERT,
  "/etc/kube/pki/admin.key": KEY,
  "/etc/kube/not-pem.crt": "hello",
};
function readFile(path: string): string {
  const text = disk[path];
  if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
  return text;
}

function kubeconfig(cluster: string, user: string, extra = ""): string {
  return `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c1
  cluster:
${indent(cluster, 4)}
contexts:
- name: main
  context:
    cluster: c1
    user: u1
${extra}users:
- name: u1
  user:
${indent(user, 4)}
`;
}
const indent = (text: string, n: number) =>
  text
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");

function parse(yaml: string, path = "/etc/kube/config") {
  const files: KubeconfigFile[] = [{ path, doc: load(yaml) }];
  return connectionFromKubeconfigs(files, readFile);
}

function refused(yaml: string, pattern: RegExp): void {
  assert.throws(
    () => parse(yaml),
    (err: unknown) => {
      assert.ok(isNthdError(err, "CONFIG_INVALID"), String(err));
      assert.match(err.message, /^kubeconfig \/etc\/kube\/config/);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe("kubeconfig: what is read", () => {
  test("inline certificate data: CA, client certificate and key", () => {
    const conn = parse(
      kubeconfig(
        `server: https://127.0.0.1:6443/\ncertificate-authority-data: ${b64(CA)}`,
        `client-certificate-data: ${b64(CERT)}\nclient-key-data: ${b64(KEY)}`,
      ),
    );
    assert.equal(conn.server, "https://127.0.0.1:6443");
    assert.equal(conn.ca, CA);
    assert.equal(conn.cert, CERT);
    assert.equal(conn.key, KEY);
    assert.equal(conn.insecureSkipTlsVerify, false);
    assert.deepEqual(conn.auth, { kind: "none" });
    assert.match(conn.source, /context main/);
  });

  test("file paths, relative ones against the kubeconfig's directory", () => {
    const conn = parse(
      kubeconfig(
        "server: https://api.example:443\ncertificate-authority: /etc/kube/ca.crt",
        "client-certificate: pki/admin.crt\nclient-key: pki/admin.key",
      ),
    );
    assert.equal(conn.ca, CA);
    assert.equal(conn.cert, CERT);
    assert.equal(conn.key, KEY);
  });

  test("-data wins over the file path", () => {
    const conn = parse(
      kubeconfig(
        `server: https://a:1\ncertificate-authority: /nowhere/ca.crt\ncertificate-authority-data: ${b64(CA)}`,
        "token: abc",
      ),
    );
    assert.equal(conn.ca, CA);
  });

  test("bearer token; tokenFile wins over token and is resolved, not read", () => {
    assert.deepEqual(parse(kubeconfig("server: https://a:1", "token: abc.def\n")).auth, {
      kind: "token",
      token: "abc.def",
    });
    assert.deepEqual(
      parse(kubeconfig("server: https://a:1", "token: abc\ntokenFile: secrets/token")).auth,
      { kind: "token-file", path: "/etc/kube/secrets/token" },
    );
  });

  test("insecure-skip-tls-verify and tls-server-name", () => {
    const conn = parse(
      kubeconfig(
        "server: https://10.0.0.1:6443\ninsecure-skip-tls-verify: true\ntls-server-name: kubernetes",
        "token: t",
      ),
    );
    assert.equal(conn.insecureSkipTlsVerify, true);
    assert.equal(conn.tlsServerName, "kubernetes");
    assert.equal(conn.ca, undefined);
  });

  test("several files merge: first definition and first current-context win", () => {
    const first: KubeconfigFile = {
      path: "/a/config",
      doc: load(`current-context: ctx
contexts:
- name: ctx
  context: {cluster: shared, user: me}
users:
- name: me
  user: {token: from-a}
`),
    };
    const second: KubeconfigFile = {
      path: "/b/config",
      doc: load(`current-context: other
clusters:
- name: shared
  cluster: {server: "https://b:6443", certificate-authority: ca.crt}
users:
- name: me
  user: {token: from-b}
`),
    };
    const conn = connectionFromKubeconfigs([first, second], (p) => {
      assert.equal(p, "/b/ca.crt");
      return CA;
    });
    assert.equal(conn.server, "https://b:6443");
    assert.deepEqual(conn.auth, { kind: "token", token: "from-a" });
    assert.match(conn.source, /\/a\/config, \/b\/config \(context ctx\)/);
  });
});

describe("kubeconfig: what is refused", () => {
  test("no current-context, or one that names nothing", () => {
    assert.throws(
      () => connectionFromKubeconfigs([{ path: "/x", doc: load("clusters: []") }], readFile),
      /kubeconfig \/x: current-context is not set/,
    );
    refused(
      kubeconfig("server: https://a:1", "token: t").replace(
        "current-context: main",
        "current-context: gone",
      ),
      /current-context: context "gone" not found/,
    );
  });

  test("a context naming a missing cluster or user", () => {
    refused(
      kubeconfig("server: https://a:1", "token: t").replace("cluster: c1", "cluster: c9"),
      /contexts\["main"\]\.context\.cluster: cluster "c9" not found/,
    );
    refused(
      kubeconfig("server: https://a:1", "token: t").replace("user: u1", "user: u9"),
      /contexts\["main"\]\.context\.user: user "u9" not found/,
    );
  });

  test("exec and auth-provider credential plugins", () => {
    refused(
      kubeconfig(
        "server: https://a:1",
        "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: aws",
      ),
      /users\["u1"\]\.user\.exec: exec credential plugins are not supported/,
    );
    refused(
      kubeconfig("server: https://a:1", "auth-provider:\n  name: oidc"),
      /users\["u1"\]\.user\.auth-provider/,
    );
    refused(kubeconfig("server: https://a:1", "token: t\nas: admin"), /impersonation/);
  });

  test("unreadable or non-PEM certificate files and data", () => {
    refused(
      kubeconfig("server: https://a:1\ncertificate-authority: /missing/ca.crt", "token: t"),
      /clusters\["c1"\]\.cluster\.certificate-authority: cannot read \/missing\/ca\.crt/,
    );
    refused(
      kubeconfig("server: https://a:1\ncertificate-authority: /etc/kube/not-pem.crt", "token: t"),
      /not-pem\.crt is not PEM/,
    );
    refused(
      kubeconfig(`server: https://a:1\ncertificate-authority-data: ${b64("nope")}`, "token: t"),
      /certificate-authority-data: not base64-encoded PEM/,
    );
    refused(
      kubeconfig("server: https://a:1", `client-certificate-data: ${b64(CERT)}`),
      /client-key\(-data\): needed with the other half/,
    );
  });

  test("a missing or non-URL server, proxies, and insecure with a CA", () => {
    refused(
      kubeconfig("insecure-skip-tls-verify: false", "token: t"),
      /server: not an http\(s\) URL: missing/,
    );
    refused(kubeconfig("server: 127.0.0.1:6443", "token: t"), /server: not an http\(s\) URL/);
    refused(
      kubeconfig("server: https://a:1\nproxy-url: http://proxy:3128", "token: t"),
      /proxy-url: proxies are not supported/,
    );
    refused(
      kubeconfig(
        `server: https://a:1\ninsecure-skip-tls-verify: true\ncertificate-authority-data: ${b64(CA)}`,
        "token: t",
      ),
      /insecure-skip-tls-verify: set together with a certificate authority/,
    );
  });

  test("shapes that are not a kubeconfig", () => {
    refused("- just\n- a list\n", /top level: not a mapping/);
    refused("current-context: main\nclusters: {c1: {}}\n", /clusters: not a list/);
    refused("current-context: main\nusers:\n- user: {token: t}\n", /users\[0\]\.name: missing/);
  });
});
