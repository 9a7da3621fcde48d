// Bundles src/main.ts into one ESM file for the container image.
import { build } from "esbuild";

const result = await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/nthd.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node26",
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "external",
  metafile: true,
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __nthdCreateRequire } from 'node:module'; const require = __nthdCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
process.stdout.write(`built dist/nthd.mjs (${(bytes / 1024).toFixed(0)} KiB with source map)\n`);
