// Builds the container image's root file system into a directory, without a container
// engine: the Dockerfile's steps applied to a plain directory, so the image's layout can be
// exercised (and run, see test/integration/image-rootfs.test.ts) where no engine exists.
//
//   node scripts/image-rootfs.ts OUT_DIR     (run `npm run build` first)
//
// What the Dockerfile does, and its counterpart here:
//   build stage: npm run build, dist/ minus source maps  -> the same dist/, copied without maps
//   runtime base (distroless nodejs26, nonroot):          -> node 26 from the `node` npm package
//     /nodejs/bin/node, glibc and libstdc++, /etc/passwd      at /nodejs/bin/node, the libraries
//     with nonroot (65532), /tmp                              it links (ldd), passwd/group, /tmp
//   COPY --chown=65532:65532 /out/ /app/                   -> /app owned by 65532 (when root)
//   USER, ENV, WORKDIR, ENTRYPOINT                         -> OUT/.image-config.json
// The base image's other files (CA certificates, tzdata) are not reproduced: nthd does not read
// them (AWS and the API server are reached with the SDK's and the kubeconfig's CAs).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

const NONROOT = 65532;
const repo = join(new URL(".", import.meta.url).pathname, "..");

export const IMAGE_CONFIG = {
  user: `${NONROOT}:${NONROOT}`,
  workdir: "/app",
  env: { NODE_ENV: "production" },
  entrypoint: ["/nodejs/bin/node", "/app/nthd.mjs"],
} as const;

/** The `node` npm package's binary: the same Node.js 26 the project runs on. */
function nodeBinary(): string {
  const bin = join(repo, "node_modules", "node", "bin", "node");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: npm install`);
  return realpathSync(bin);
}

/** The shared libraries a binary links, as ldd resolves them (absolute paths). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  const paths = new Set<string>();
  for (const line of out.split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) paths.add(m[1]);
  }
  return [...paths];
}

function copyPreservingPath(root: string, path: string): void {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(path), target);
  chmodSync(target, statSync(realpathSync(path)).mode & 0o777);
  // ld.so also looks libraries up by the name ldd printed through symlinked dirs (/lib64).
}

function chownTree(path: string, uid: number, gid: number): void {
  if (process.getuid?.() !== 0) return;
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
  }
}

export function buildRootfs(out: string): void {
  const dist = join(repo, "dist");
  if (!existsSync(join(dist, "nthd.mjs")))
    throw new Error("dist/nthd.mjs is missing: run npm run build");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // Runtime base: node, the libraries it links, the users, a scratch /tmp.
  const node = nodeBinary();
  mkdirSync(join(out, "nodejs", "bin"), { recursive: true });
  copyFileSync(node, join(out, "nodejs", "bin", "node"));
  chmodSync(join(out, "nodejs", "bin", "node"), 0o755);
  for (const lib of sharedLibraries(node)) copyPreservingPath(out, lib);
  mkdirSync(join(out, "etc"), { recursive: true });
  writeFileSync(
    join(out, "etc", "passwd"),
    // nthd reads no home directory: none is made (the base image's nonroot has one).
    `root:x:0:0:root:/:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/nonexistent:/sbin/nologin\n`,
  );
  writeFileSync(join(out, "etc", "group"), `root:x:0:\nnonroot:x:${NONROOT}:\n`);
  for (const dir of ["tmp", "proc", "dev"]) mkdirSync(join(out, dir), { recursive: true });
  chmodSync(join(out, "tmp"), 0o1777);

  // COPY --from=build --chown=65532:65532 /out/ /app/ (the bundle, no source maps).
  cpSync(dist, join(out, "app"), {
    recursive: true,
    filter: (src) => !src.endsWith(".map"),
  });
  chownTree(join(out, "app"), NONROOT, NONROOT);

  writeFileSync(join(out, ".image-config.json"), `${JSON.stringify(IMAGE_CONFIG, null, 2)}\n`);
}

if (import.meta.main) {
  const out = process.argv[2];
  if (out === undefined) {
    process.stderr.write("usage: node scripts/image-rootfs.ts OUT_DIR\n");
    process.exitCode = 2;
  } else {
    buildRootfs(out);
    process.stdout.write(`image root file system in ${out}\n`);
  }
}
