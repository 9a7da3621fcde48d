// Runs a program inside a directory built by scripts/image-rootfs.ts the way a container
// runtime would run the image, without one: a private mount namespace (unshare), the root
// file system bound read-only, a tmpfs /tmp (the chart's emptyDir), /proc and /dev, and the
// program started by chroot as user and group 65532. The ground runs as root, which unshare
// and chroot need; the network is the host's, so the program reaches the ground on 127.0.0.1.
import { type ChildProcess, spawn } from "node:child_process";

export interface RootfsBind {
  /** Host path. */
  readonly host: string;
  /** Where it appears inside the root file system (absolute). */
  readonly at: string;
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Starts `argv` (paths inside the root) in `root`. The returned child's pid is the program's
 * own: unshare, the shell and chroot each replace themselves (exec), none forks.
 */
export function spawnInRootfs(
  root: string,
  argv: readonly string[],
  opts: { env?: Record<string, string>; binds?: readonly RootfsBind[]; user?: string } = {},
): ChildProcess {
  const r = quote(root);
  const lines = [
    "set -e",
    `mount --bind ${r} ${r}`,
    `mount -t tmpfs -o size=16m,mode=1777 tmpfs ${r}/tmp`,
    `mount -t proc proc ${r}/proc`,
    `mount --rbind /dev ${r}/dev`,
  ];
  for (const b of opts.binds ?? []) {
    const at = quote(`${root}${b.at}`);
    lines.push(
      `mkdir -p ${at}`,
      `mount --bind ${quote(b.host)} ${at}`,
      `mount -o remount,bind,ro ${at}`,
    );
  }
  lines.push(
    `mount -o remount,bind,ro ${r}`,
    `exec chroot --userspec=${opts.user ?? "65532:65532"} ${r} ${argv.map(quote).join(" ")}`,
  );
  return spawn(
    "unshare",
    ["--mount", "--propagation", "private", "/bin/sh", "-c", lines.join("\n")],
    {
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

/** Runs to completion; the exit code and what it printed. */
export function runInRootfs(
  root: string,
  argv: readonly string[],
  opts: Parameters<typeof spawnInRootfs>[2] = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnInRootfs(root, argv, opts);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}
