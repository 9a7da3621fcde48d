import type { LoadedConfig } from "./config.ts";

/**
 * Runs the configured mode until SIGTERM/SIGINT. Each mode's source is loaded
 * lazily so IMDS mode never pays for the AWS SDK.
 */
export async function runDaemon(loaded: LoadedConfig): Promise<number> {
  process.stderr.write(
    `nthd: configuration valid for ${loaded.mode} mode; the ${loaded.mode} source is not available in this build yet\n`,
  );
  return 1;
}
