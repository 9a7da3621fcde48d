/**
 * The host's uptime, for giving back a node cordoned for a scheduled reboot.
 * /proc/uptime inside a container reports the host's uptime (the kernel's),
 * so no host path is mounted; UPTIME_FROM_FILE points elsewhere for tests.
 */
import { readFile } from "node:fs/promises";

export const DEFAULT_UPTIME_FILE = "/proc/uptime";

/** Seconds since boot: the first number of a /proc/uptime-style file ("1234.56 7890.12"). */
export function parseUptime(text: string): number | undefined {
  const first = text.trim().split(/\s+/)[0] ?? "";
  if (!/^\d+(\.\d+)?$/.test(first)) return undefined;
  return Number(first);
}

export async function readUptimeSeconds(path: string): Promise<number> {
  const text = await readFile(path, "utf8");
  const uptime = parseUptime(text);
  if (uptime === undefined)
    throw new Error(`${path}: not an uptime (${JSON.stringify(text.slice(0, 40))})`);
  return uptime;
}
