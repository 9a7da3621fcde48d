// Writes docs/configuration.md from the settings table (npm run docs:config).
import { writeFileSync } from "node:fs";
import { configurationReference } from "../src/config/index.ts";

writeFileSync(new URL("../docs/configuration.md", import.meta.url), configurationReference());
process.stdout.write("wrote docs/configuration.md\n");
