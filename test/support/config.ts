/**
 * A full nthd configuration for tests: every setting at its default from the
 * one settings table (src/config/), then the test's own values on top.
 */
import { type Config, SETTINGS } from "../../src/config/index.ts";

const DEFAULTS = Object.fromEntries(
  Object.entries(SETTINGS).map(([key, spec]) => [key, spec.default]),
) as Config;

/** A fresh copy each call: a test that changes a default's map changes only its own. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...structuredClone(DEFAULTS), ...overrides };
}
