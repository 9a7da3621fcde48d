/**
 * `nthd doctor`: checks a deployment end to end with nthd's own
 * configuration (the same environment and flags as the daemon) and prints a
 * checklist with fixes, or JSON with --json. Exit 0 when nothing failed,
 * 1 when a check failed, 2 on bad usage or configuration.
 */

import { KubeConfig } from "@kubernetes/client-node";
import { loadConfig } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import { failed, renderChecklist } from "./check.ts";
import { runDoctor } from "./run.ts";

export const DOCTOR_USAGE = `Usage: nthd doctor [--json] [--send-test-event] [--cluster-name NAME] [nthd flags...]

Reads nthd's normal configuration (QUEUE_URL, AWS_REGION, MANAGED_TAG, ... or
the same flags) and checks: AWS credentials and region, the queue and nthd's
access to it, the queue policy, the EventBridge rules (by name with
--cluster-name, else every rule targeting the queue), lifecycle hooks on groups
carrying the managed tag, RBAC for every call nthd makes, node provider IDs;
in IMDS mode, that instance metadata answers.

  --json              machine-readable result
  --send-test-event   send a marked test message to the queue and watch it arrive
  --cluster-name NAME check the rules setup/kOps name after this cluster
`;

interface DoctorFlags {
  json: boolean;
  sendTestEvent: boolean;
  cluster?: string;
  help: boolean;
  rest: string[];
}

/** Doctor's own flags; everything else goes to nthd's configuration loader. */
export function splitDoctorArgs(argv: readonly string[]): DoctorFlags | { error: string } {
  const flags: DoctorFlags = { json: false, sendTestEvent: false, help: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--json") flags.json = true;
    else if (arg === "--send-test-event") flags.sendTestEvent = true;
    else if (arg === "--help" || arg === "-h") flags.help = true;
    else if (arg === "--cluster-name" || arg.startsWith("--cluster-name=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (!value) return { error: "--cluster-name needs a value" };
      flags.cluster = value;
    } else flags.rest.push(arg);
  }
  return flags;
}

/** Doctor uses the full client (it is a separate command); the daemon does not load it. */
function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export async function doctorCommand(argv: readonly string[]): Promise<number> {
  const flags = splitDoctorArgs(argv);
  if ("error" in flags) {
    process.stderr.write(`nthd doctor: ${flags.error}\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  let loaded: ReturnType<typeof loadConfig>;
  let kubeConfig: KubeConfig;
  try {
    loaded = loadConfig(flags.rest, process.env);
    kubeConfig = loadKubeConfig(loaded.config.kubeconfig);
  } catch (err) {
    process.stderr.write(`nthd doctor: ${errorMessage(err)}\n`);
    return 2;
  }
  const results = await runDoctor({
    config: loaded.config,
    mode: loaded.mode,
    ...(flags.cluster !== undefined ? { cluster: flags.cluster } : {}),
    sendTestEvent: flags.sendTestEvent,
    kubeConfig,
  });
  const ok = !failed(results);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ok, mode: loaded.mode, checks: results }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`nthd doctor (${loaded.mode} mode)\n${renderChecklist(results)}`);
  }
  return ok ? 0 : 1;
}
