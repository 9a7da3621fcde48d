// `node test/env/cli.ts up|down|status`: run the test ground by hand (the demo uses it).
import { existsSync, readFileSync } from "node:fs";
import {
  type GroundState,
  startGround,
  stateFile,
  stopGround,
  stopStaleGround,
} from "./ground-up.ts";

const command = process.argv[2] ?? "status";
if (command === "up") {
  const state = await startGround();
  process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
} else if (command === "down") {
  if (existsSync(stateFile()))
    await stopGround(JSON.parse(readFileSync(stateFile(), "utf8")) as GroundState);
  await stopStaleGround();
} else if (command === "status") {
  process.stdout.write(
    existsSync(stateFile()) ? readFileSync(stateFile(), "utf8") : "no ground running\n",
  );
} else {
  process.stderr.write("usage: node test/env/cli.ts up|down|status\n");
  process.exitCode = 2;
}
