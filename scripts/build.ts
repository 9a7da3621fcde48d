// Bundles src/main.ts for the container image: dist/nthd.mjs plus chunks.
// Code splitting keeps each mode's code in its own chunks, so IMDS mode never
// loads (or even parses) the AWS SDK, and a subcommand never loads the daemon.
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
const result = await build({
  entryPoints: { nthd: "src/main.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  // The AWS SDK's ES module build, not its CommonJS one (the default order
  // for Node): only the ES build lets esbuild drop the commands and shapes
  // nthd never uses. EC2's client is a whole API (its CommonJS build costs
  // queue mode about 50 MiB of resident memory; trimmed, about 20). Only
  // packages without an "exports" map read this, here the AWS SDK's.
  mainFields: ["module", "main"],
  format: "esm",
  target: "node26",
  minify: true,
  // Readable stack traces and error class names in logs.
  keepNames: true,
  // Maps beside the code, without a pointer in it: the image ships no maps.
  sourcemap: "external",
  legalComments: "external",
  metafile: true,
  // Some CommonJS dependencies call require(); give the ESM chunks one.
  banner: {
    js: "import { createRequire as __nthdCreateRequire } from 'node:module'; const require = __nthdCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
const code = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".mjs"));
const kib = code.reduce((sum, [, o]) => sum + o.bytes, 0) / 1024;
process.stdout.write(
  `built dist/nthd.mjs and ${code.length - 1} chunks (${kib.toFixed(0)} KiB of code)\n`,
);

// IMDS mode runs on every node, so what its start-up loads is checked here: a
// stray static import must not quietly bring back a package it was kept from.
// Start-up = the entry, the daemon and the IMDS mode chunks and everything
// they import statically (metrics, the webhook and the YAML parser are
// imported dynamically, only when configured).
const IMDS_START = new Set(["src/main.ts", "src/daemon.ts", "src/modes/imds.ts"]);
const KEPT_OFF_IMDS_START: Record<string, RegExp> = {
  "the AWS SDK": /node_modules\/@aws-sdk\//,
  "prom-client (loaded when /metrics is served)": /node_modules\/prom-client\//,
  "undici's package entry (only its pool is needed)": /node_modules\/undici\/index\.js$/,
  "js-yaml (loaded for a kubeconfig file)": /node_modules\/js-yaml\//,
  "zod's classic API (the node record uses zod/mini)": /node_modules\/zod\/(v4\/classic|v3)\//,
};
const outputs = result.metafile.outputs;
const loaded = new Set<string>();
const visit = (file: string): void => {
  const out = outputs[file];
  if (out === undefined || loaded.has(file)) return;
  loaded.add(file);
  for (const i of out.imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
};
const starts = Object.keys(outputs).filter((file) => {
  const entry = outputs[file]?.entryPoint;
  return entry !== undefined && IMDS_START.has(entry);
});
for (const file of starts) visit(file);
const inputs = [...loaded].flatMap((file) => Object.keys(outputs[file]?.inputs ?? {}));
const found = Object.entries(KEPT_OFF_IMDS_START).filter(([, re]) =>
  inputs.some((i) => re.test(i)),
);
if (starts.length !== IMDS_START.size || found.length > 0) {
  process.stderr.write(
    starts.length !== IMDS_START.size
      ? "build: could not find IMDS mode's start-up chunks in the metafile\n"
      : `build: IMDS mode's start-up loads ${found.map(([what]) => what).join(", ")}\n`,
  );
  process.exit(1);
}
const startKib = [...loaded].reduce((sum, file) => sum + (outputs[file]?.bytes ?? 0), 0) / 1024;
process.stdout.write(`IMDS mode loads ${startKib.toFixed(0)} KiB of it at start-up\n`);
