/**
 * Where the API server is and how to prove who we are, from one of: a
 * kubeconfig file (the kubeconfig setting, or KUBECONFIG), the pod's service
 * account (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA), or
 * ~/.kube/config. Reading YAML needs js-yaml, imported only when a kubeconfig
 * file is actually used, so a pod on the in-cluster path never loads it.
 * https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { errorMessage, NthdError } from "../errors.ts";
import { readTextFileCapped } from "../files.ts";
import { connectionFromKubeconfigs, type KubeconfigFile } from "./kubeconfig.ts";

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export type Auth =
  | { readonly kind: "none" }
  | { readonly kind: "token"; readonly token: string }
  /** Re-read periodically: bound service account tokens rotate (about hourly). */
  | { readonly kind: "token-file"; readonly path: string }
  | { readonly kind: "basic"; readonly username: string; readonly password: string };

export interface Connection {
  /** `https://host:port`, possibly with a path prefix (an API proxy). */
  readonly server: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** Name to check the server's certificate against, when not the URL's host. */
  readonly tlsServerName?: string;
  readonly auth: Auth;
  /** For logs and errors: "in-cluster" or "kubeconfig PATH (context NAME)". */
  readonly source: string;
}

export interface ConnectionOptions {
  /** The kubeconfig setting: one path, or several separated by ":" like KUBECONFIG. */
  readonly kubeconfigPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Service account mount; tests point it at a directory of their own. */
  readonly serviceAccountDir?: string;
  readonly homeDir?: string;
}

/**
 * Order: the kubeconfig setting, KUBECONFIG, in-cluster (when
 * KUBERNETES_SERVICE_HOST is set), ~/.kube/config. Throws NthdError
 * CONFIG_INVALID naming the file and field that is wrong.
 */
export async function loadConnection(opts: ConnectionOptions = {}): Promise<Connection> {
  const env = opts.env ?? process.env;
  const paths = opts.kubeconfigPath || env.KUBECONFIG;
  if (paths) return fromKubeconfigFiles(paths.split(delimiter).filter((p) => p !== ""));
  if (env.KUBERNETES_SERVICE_HOST) {
    return inClusterConnection(env, opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  }
  const home = join(opts.homeDir ?? homedir(), ".kube", "config");
  if (existsSync(home)) return fromKubeconfigFiles([home]);
  throw new NthdError(
    "CONFIG_INVALID",
    "no Kubernetes connection: set kubeconfig (KUBECONFIG), or run in a pod with a service account " +
      "(KUBERNETES_SERVICE_HOST and the mounted token)",
  );
}

export function inClusterConnection(env: NodeJS.ProcessEnv, dir: string): Connection {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT || "443";
  const tokenPath = join(dir, "token");
  const caPath = join(dir, "ca.crt");
  // Read both once now, so a missing mount stops start-up with its path named.
  readInClusterFile(tokenPath, "token");
  const ca = readInClusterFile(caPath, "CA certificate");
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca,
    insecureSkipTlsVerify: false,
    auth: { kind: "token-file", path: tokenPath },
    source: "in-cluster",
  };
}

function readInClusterFile(path: string, what: string): string {
  try {
    return readTextFileCapped(path);
  } catch (err) {
    throw new NthdError(
      "CONFIG_INVALID",
      `in-cluster configuration (KUBERNETES_SERVICE_HOST is set): cannot read the service account ${what} ${path}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

async function fromKubeconfigFiles(paths: readonly string[]): Promise<Connection> {
  const files: KubeconfigFile[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readTextFileCapped(path);
    } catch (err) {
      throw new NthdError(
        "CONFIG_INVALID",
        `kubeconfig ${path}: cannot read: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    files.push({ path, doc: await parseKubeconfig(path, text) });
  }
  return connectionFromKubeconfigs(files, (path) => readTextFileCapped(path));
}

/**
 * A kubeconfig is YAML, and JSON is YAML too (`kubectl config view -o json`
 * writes one). JSON is parsed without loading the YAML parser at all.
 */
export async function parseKubeconfig(path: string, text: string): Promise<unknown> {
  if (text.trimStart().startsWith("{")) {
    try {
      return JSON.parse(text);
    } catch {
      // YAML flow style also starts with "{": let the YAML parser judge it.
    }
  }
  const { load } = await import("js-yaml");
  try {
    return load(text);
  } catch (err) {
    throw new NthdError(
      "CONFIG_INVALID",
      `kubeconfig ${path}: not valid YAML: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
}
