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
