// npm run fuzz: the property-based tests (test/unit/fuzz-*.test.ts) at full
// length. NTHD_FUZZ_RUNS cases per property (default here 90,000: with the
// twelve properties, over a million cases in all); prints the test output,
// then one line with the total cases, the time and the slowest case.
import { spawn } from "node:child_process";

const runs = process.env.NTHD_FUZZ_RUNS ?? "90000";
const started = performance.now();
const child = spawn(
  process.execPath,
  ["--test", "--test-reporter=spec", "--test-concurrency=1", "test/unit/fuzz-*.test.ts"],
  { env: { ...process.env, NTHD_FUZZ_RUNS: runs }, stdio: ["ignore", "pipe", "inherit"] },
);
let output = "";
child.stdout.on("data", (chunk: Buffer) => {
  output += chunk.toString();
  process.stdout.write(chunk);
});
child.on("exit", (code) => {
  let cases = 0;
  let slowest = 0;
  let slowestLine = "";
  for (const m of output.matchAll(/fuzz (.+?): cases=(\d+) slowest=([\d.]+)ms cpu/g)) {
    cases += Number(m[2]);
    if (Number(m[3]) > slowest) {
      slowest = Number(m[3]);
      slowestLine = m[1] ?? "";
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `fuzz total: ${cases} cases in ${seconds.toFixed(0)} s; slowest case ${slowest.toFixed(2)} ms of CPU (${slowestLine})\n`,
  );
  process.exitCode = code ?? 1;
});
