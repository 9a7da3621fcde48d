/**
 * `nthd doctor`: checks a deployment end to end with nthd's own
 * configuration (the same environment and flags as the daemon) and prints a
 * checklist with fixes, or JSON with --json. Exit 0 when nothing failed,
 * 1 when a check failed, 2 on bad usage or configuration.
 */

import { KubeConfig } from "@kubernetes/client-node";
import {
  type CommandLineSpec,
  loadConfig,
  parseCommandLine,
  usageError,
  usageText,
} from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import { failed, renderChecklist } from "./check.ts";
import { runDoctor } from "./run.ts";

export const DOCTOR_LINE: CommandLineSpec = {
  name: "nthd doctor",
  synopsis: ["nthd doctor [options] [nthd flags...]"],
  description: `Reads nthd's normal configuration (QUEUE_URL, AWS_REGION, MANAGED_TAG, ... or
the same flags as the daemon) and checks: AWS credentials and region, the
queue and nthd's access to it, every AWS permission nthd uses (naming what
stops working without each), the queue policy, the EventBridge rules (by name
with --cluster-name, else every rule targeting the queue), lifecycle hooks on
groups carrying the managed tag, RBAC for every call nthd makes, node provider
IDs; in IMDS mode, that instance metadata answers.`,
  options: {
    json: { type: "boolean", help: "machine-readable result" },
    "send-test-event": {
      type: "boolean",
      help: "send a marked test message to the queue and watch it arrive",
    },
    "cluster-name": {
      type: "string",
      value: "NAME",
      help: "check the rules setup/kOps name after this cluster",
    },
  },
  passUnknown: true,
  notes: "Any other option is one of the daemon's (nthd --help).",
  exitCodes: { 0: "no check failed", 1: "a check failed", 2: "bad usage or configuration" },
};

interface DoctorFlags {
  json: boolean;
  sendTestEvent: boolean;
  cluster?: string;
  help: boolean;
  rest: string[];
}

/** Doctor's own flags; everything else goes to nthd's configuration loader. */
export function splitDoctorArgs(argv: readonly string[]): DoctorFlags | { error: string } {
  const parsed = parseCommandLine(DOCTOR_LINE, argv);
  if (!parsed.ok) return { error: parsed.message };
  const cluster = parsed.values["cluster-name"] as string | undefined;
  if (cluster === "") return { error: "option --cluster-name needs a value" };
  return {
    json: parsed.values.json === true,
    sendTestEvent: parsed.values["send-test-event"] === true,
    ...(cluster !== undefined ? { cluster } : {}),
    help: parsed.help,
    rest: [...parsed.rest],
  };
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
    process.stderr.write(usageError(DOCTOR_LINE, flags.error));
    return 2;
  }
  if (flags.help) {
    process.stdout.write(usageText(DOCTOR_LINE));
    return 0;
  }
  let loaded: ReturnType<typeof loadConfig>;
  let kubeConfig: KubeConfig;
  try {
    loaded = loadConfig(flags.rest, process.env);
    kubeConfig = loadKubeConfig(loaded.config.kubeconfig);
  } catch (err) {
    process.stderr.write(usageError(DOCTOR_LINE, errorMessage(err)));
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
