/**
 * Turns parsed kubeconfig documents into a Connection: the current context's
 * cluster (server, CA, TLS options) and user (client certificate, bearer
 * token, token file, basic auth). Several files merge as kubectl merges
 * KUBECONFIG: the first file naming a cluster, user or context wins, the first
 * current-context set wins, and relative paths are relative to the file they
 * appear in. Credential plugins (exec, auth-provider), impersonation and
 * proxies are refused with an error naming the field, never ignored.
 * https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { errorMessage, NthdError } from "../errors.ts";
import type { Auth, Connection } from "./connection.ts";

export interface KubeconfigFile {
  readonly path: string;
  /** The parsed YAML, not yet checked. */
  readonly doc: unknown;
}

type Obj = Record<string, unknown>;

interface Found {
  readonly value: Obj;
  readonly file: string;
  /** e.g. `users["admin"].user`, for error messages. */
  readonly field: string;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function invalid(file: string, field: string, what: string): NthdError {
  return new NthdError("CONFIG_INVALID", `kubeconfig ${file}: ${field}: ${what}`);
}

/** Fields nthd cannot honour; using the file without them would act as someone else. */
const REFUSED_USER_FIELDS: Readonly<Record<string, string>> = {
  exec: "exec credential plugins are not supported; use a token, tokenFile or client certificate",
  "auth-provider":
    "auth-provider plugins are not supported; use a token, tokenFile or client certificate",
  as: "impersonation is not supported",
  "as-uid": "impersonation is not supported",
  "as-groups": "impersonation is not supported",
  "as-user-extra": "impersonation is not supported",
};

export function connectionFromKubeconfigs(
  files: readonly KubeconfigFile[],
  readFile: (path: string) => string,
): Connection {
  const names = files.map((f) => f.path).join(", ");
  const clusters = new Map<string, Found>();
  const users = new Map<string, Found>();
  const contexts = new Map<string, Found>();
  let current: { name: string; file: string } | undefined;

  for (const { path, doc } of files) {
    if (doc === null || doc === undefined) continue; // an empty file adds nothing
    if (!isObj(doc)) throw invalid(path, "top level", "not a mapping");
    collect(path, doc, "clusters", "cluster", clusters);
    collect(path, doc, "users", "user", users);
    collect(path, doc, "contexts", "context", contexts);
    const cc = doc["current-context"];
    if (cc !== undefined && cc !== null && typeof cc !== "string") {
      throw invalid(path, "current-context", "not a string");
    }
    if (current === undefined && cc) current = { name: cc, file: path };
  }

  if (current === undefined) {
    throw new NthdError("CONFIG_INVALID", `kubeconfig ${names}: current-context is not set`);
  }
  const context = contexts.get(current.name);
  if (!context) {
    throw invalid(current.file, "current-context", `context "${current.name}" not found`);
  }
  const clusterName = context.value.cluster;
  if (typeof clusterName !== "string" || clusterName === "") {
    throw invalid(context.file, `${context.field}.cluster`, "not set");
  }
  const cluster = clusters.get(clusterName);
  if (!cluster) {
    throw invalid(context.file, `${context.field}.cluster`, `cluster "${clusterName}" not found`);
  }
  const userName = context.value.user;
  if (userName !== undefined && typeof userName !== "string") {
    throw invalid(context.file, `${context.field}.user`, "not a string");
  }
  let user: Found | undefined;
  if (userName) {
    user = users.get(userName);
    if (!user) {
      throw invalid(context.file, `${context.field}.user`, `user "${userName}" not found`);
    }
  }

  const read = (found: Found, key: string): string | undefined => readPem(found, key, readFile);
  const server = cluster.value.server;
  if (typeof server !== "string" || !/^https?:\/\//.test(server) || !URL.canParse(server)) {
    throw invalid(cluster.file, `${cluster.field}.server`, `not an http(s) URL: ${show(server)}`);
  }
  if (cluster.value["proxy-url"]) {
    throw invalid(cluster.file, `${cluster.field}.proxy-url`, "proxies are not supported");
  }
  const ca = read(cluster, "certificate-authority");
  const insecure = cluster.value["insecure-skip-tls-verify"] === true;
  if (insecure && ca !== undefined) {
    // kubectl refuses this pair too: it is never what was meant.
    throw invalid(
      cluster.file,
      `${cluster.field}.insecure-skip-tls-verify`,
      "set together with a certificate authority",
    );
  }
  const tlsServerName = cluster.value["tls-server-name"];

  let auth: Auth = { kind: "none" };
  let cert: string | undefined;
  let key: string | undefined;
  if (user) {
    for (const [field, why] of Object.entries(REFUSED_USER_FIELDS)) {
      const v = user.value[field];
      if (v !== undefined && v !== null && v !== "") {
        throw invalid(user.file, `${user.field}.${field}`, why);
      }
    }
    cert = read(user, "client-certificate");
    key = read(user, "client-key");
    if ((cert === undefined) !== (key === undefined)) {
      const missing = cert === undefined ? "client-certificate" : "client-key";
      throw invalid(user.file, `${user.field}.${missing}(-data)`, "needed with the other half");
    }
    auth = userAuth(user);
  }

  return {
    server: server.replace(/\/+$/, ""),
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    insecureSkipTlsVerify: insecure,
    ...(typeof tlsServerName === "string" && tlsServerName !== "" ? { tlsServerName } : {}),
    auth,
    source: `kubeconfig ${names} (context ${current.name})`,
  };
}

/** tokenFile wins over token (client-go reads the file, falling back to nothing). */
function userAuth(user: Found): Auth {
  const { tokenFile, token, username, password } = user.value;
  if (typeof tokenFile === "string" && tokenFile !== "") {
    return { kind: "token-file", path: resolvePath(user.file, tokenFile) };
  }
  if (typeof token === "string" && token !== "") return { kind: "token", token: token.trim() };
  if (typeof username === "string" && username !== "") {
    return { kind: "basic", username, password: typeof password === "string" ? password : "" };
  }
  return { kind: "none" };
}

function collect(
  file: string,
  doc: Obj,
  list: string,
  item: string,
  into: Map<string, Found>,
): void {
  const entries = doc[list];
  if (entries === undefined || entries === null) return;
  if (!Array.isArray(entries)) throw invalid(file, list, "not a list");
  entries.forEach((entry: unknown, i) => {
    if (!isObj(entry) || typeof entry.name !== "string" || entry.name === "") {
      throw invalid(file, `${list}[${i}].name`, "missing");
    }
    const value = entry[item];
    if (!isObj(value)) throw invalid(file, `${list}["${entry.name}"].${item}`, "missing");
    if (!into.has(entry.name)) {
      into.set(entry.name, { value, file, field: `${list}["${entry.name}"].${item}` });
    }
  });
}

/** `X-data` (base64, inline) overrides `X` (a file path), as in client-go. */
function readPem(
  found: Found,
  key: string,
  readFile: (path: string) => string,
): string | undefined {
  const data = found.value[`${key}-data`];
  if (data !== undefined && data !== null && data !== "") {
    const field = `${found.field}.${key}-data`;
    if (typeof data !== "string") throw invalid(found.file, field, "not a string");
    const text = Buffer.from(data, "base64").toString("utf8");
    if (!text.includes("-----BEGIN ")) {
      throw invalid(found.file, field, "not base64-encoded PEM");
    }
    return text;
  }
  const path = found.value[key];
  if (path === undefined || path === null || path === "") return undefined;
  const field = `${found.field}.${key}`;
  if (typeof path !== "string") throw invalid(found.file, field, "not a string");
  const full = resolvePath(found.file, path);
  let text: string;
  try {
    text = readFile(full);
  } catch (err) {
    throw invalid(found.file, field, `cannot read ${full}: ${errorMessage(err)}`);
  }
  if (!text.includes("-----BEGIN ")) {
    throw invalid(found.file, field, `${full} is not PEM`);
  }
  return text;
}

function resolvePath(kubeconfigFile: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(kubeconfigFile), path);
}

function show(v: unknown): string {
  return v === undefined ? "missing" : JSON.stringify(v);
}
