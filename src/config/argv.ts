/**
 * The one command-line parser of nthd: the daemon's flags and every
 * subcommand's options go through `node:util` parseArgs here, so they all
 * accept the same forms (`--flag value`, `--flag=value`, bare booleans,
 * `--flag=true|false`, `--no-flag`, `--` ends the options) and fail with the
 * same messages. Each command's usage text is generated from the same spec
 * the parser reads, so help never says something the parser does not.
 * Pure: no I/O.
 */
import { parseArgs } from "node:util";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** Repeatable (a string option collects every value given). */
  readonly multiple?: boolean;
  /** What the value is, for the usage line: "FILE", "N". Strings only. */
  readonly value?: string;
  readonly help: string;
  /** Older spellings accepted as the same option; shown in help as deprecated. */
  readonly aliases?: readonly string[];
  /** One-letter form ("h"). */
  readonly short?: string;
}

export interface CommandLineSpec {
  /** "nthd explain"; messages start with it. */
  readonly name: string;
  /** Synopsis lines after "Usage: ". */
  readonly synopsis: readonly string[];
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra help paragraphs (option groups, notes) printed after the options. */
  readonly notes?: string;
  /** What each exit code means for this command. */
  readonly exitCodes: Readonly<Record<0 | 1 | 2, string>>;
  readonly allowPositionals?: boolean;
  /**
   * Options this spec does not know are handed back in `rest` (with the
   * arguments that follow them) instead of refused: doctor passes them on to
   * the daemon's own flags.
   */
  readonly passUnknown?: boolean;
}

export type ParsedLine = {
  readonly ok: true;
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  /** Unknown options and what follows them (passUnknown only). */
  readonly rest: readonly string[];
  /** Deprecated aliases that were used, as typed. */
  readonly aliasesUsed: readonly string[];
  readonly help: boolean;
};
export type ParseFailure = {
  readonly ok: false;
  readonly message: string;
  /** A boolean option given a value that is not one (`--dry-run=perhaps`). */
  readonly badBoolean?: { readonly option: string; readonly value: string };
};

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", help: "show this help" };

// Go's strconv.ParseBool words (NTH's flags) and nthd's yes/no/on/off.
const TRUE_WORDS = new Set(["1", "t", "true", "y", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "f", "false", "n", "no", "off"]);

/** `--flag=true|false` for a boolean becomes `--flag` / `--no-flag` (parseArgs' form). */
function normaliseBooleans(
  argv: readonly string[],
  isBoolean: (name: string) => boolean,
): string[] | ParseFailure {
  const out: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--([^=]+)=(.*)$/.exec(arg);
    if (m && isBoolean(m[1] as string)) {
      const word = (m[2] as string).toLowerCase();
      if (!TRUE_WORDS.has(word) && !FALSE_WORDS.has(word)) {
        return {
          ok: false,
          message: `--${m[1]}=${m[2]}: expected true or false`,
          badBoolean: { option: m[1] as string, value: m[2] as string },
        };
      }
      out.push(TRUE_WORDS.has(word) ? `--${m[1]}` : `--no-${m[1]}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Edit distance counting a swap of neighbours as one edit ("jsno" → "json"), for "did you mean". */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest of `known` to `word`, if it is close enough to be a typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  // A typo is close to a known word in length too; anything much longer
  // (a pasted value, say) is no typo, and its edit distance would cost
  // O(length × names) for nothing.
  const longest = known.reduce((n, k) => Math.max(n, k.length), 0);
  if (word.length > longest + 3) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3))
    ? best
    : undefined;
}

function allOptions(spec: CommandLineSpec): Record<string, OptionSpec> {
  const options: Record<string, OptionSpec> = { ...spec.options, help: HELP_OPTION };
  for (const o of Object.values(spec.options)) {
    for (const alias of o.aliases ?? []) options[alias] = { ...o, aliases: [], short: undefined };
  }
  return options;
}

export function parseCommandLine(
  spec: CommandLineSpec,
  argv: readonly string[],
): ParsedLine | ParseFailure {
  const options = allOptions(spec);
  const normalised = normaliseBooleans(argv, (n) => options[n]?.type === "boolean");
  if (!Array.isArray(normalised)) return normalised;
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.multiple ? { multiple: true } : {}),
        ...(o.short ? { short: o.short } : {}),
      },
    ]),
  );
  try {
    const parsed = parseArgs({
      args: normalised,
      options: config,
      allowPositionals: spec.allowPositionals === true || spec.passUnknown === true,
      allowNegative: true,
      strict: spec.passUnknown !== true,
      tokens: true,
    });
    const values: Record<string, string | boolean | string[] | undefined> = {};
    const aliasesUsed: string[] = [];
    const positionals: string[] = [];
    const rest: string[] = [];
    let passing = false;
    const setByMainName = new Set<string>();
    for (const token of parsed.tokens) {
      if (token.kind === "option-terminator") {
        (passing ? rest : positionals).push(...normalised.slice(token.index + 1));
        break;
      }
      if (token.kind === "positional") {
        (passing ? rest : positionals).push(token.value);
        continue;
      }
      // parseArgs reads `--no-x` as x negated even when `no-x` is an option of its own.
      const literal = token.rawName.startsWith("--") ? token.rawName.slice(2) : token.name;
      const own = options[token.name] === undefined && options[literal] !== undefined;
      const known = own ? options[literal] : options[token.name];
      if (known === undefined && !spec.passUnknown) {
        return failure(parseArgsMessage(spec, unknownOption(token.rawName), options));
      }
      if (known === undefined) {
        // passUnknown: the option and everything after it until the next known option.
        passing = true;
        rest.push(token.inlineValue ? `${token.rawName}=${token.value}` : token.rawName);
        continue;
      }
      passing = false;
      const negated = !own && known.type === "boolean" && token.rawName === `--no-${token.name}`;
      const name = own ? literal : token.name;
      const main = mainName(spec, name);
      if (main !== name) {
        aliasesUsed.push(`--${name}`);
        // A deprecated spelling never overrides the current one, wherever it stands.
        if (setByMainName.has(main)) continue;
      } else {
        setByMainName.add(main);
      }
      if (known.type === "boolean") {
        values[main] = !negated;
      } else if (token.value === undefined) {
        return failure(`option --${name} needs a value`);
      } else if (known.multiple) {
        values[main] = [...((values[main] as string[] | undefined) ?? []), token.value];
      } else {
        values[main] = token.value;
      }
    }
    if (!spec.allowPositionals && positionals.length > 0 && !spec.passUnknown) {
      return failure(`unexpected argument '${positionals[0]}'`);
    }
    const help = values.help === true;
    delete values.help;
    return { ok: true, values, positionals, rest, aliasesUsed, help };
  } catch (err) {
    return failure(parseArgsMessage(spec, err, options));
  }
}

function mainName(spec: CommandLineSpec, name: string): string {
  if (spec.options[name] !== undefined || name === "help") return name;
  const main = Object.entries(spec.options).find(([, o]) => o.aliases?.includes(name));
  return main?.[0] ?? name;
}

function failure(message: string): ParseFailure {
  return { ok: false, message };
}

function unknownOption(raw: string): Error {
  return Object.assign(new Error(`Unknown option '${raw}'`), {
    code: "ERR_PARSE_ARGS_UNKNOWN_OPTION",
  });
}

/** parseArgs' errors in nthd's words, with a "did you mean" for a misspelt option. */
function parseArgsMessage(
  spec: CommandLineSpec,
  err: unknown,
  options: Record<string, OptionSpec>,
): string {
  const code = (err as { code?: string }).code;
  const text = (err as Error).message ?? String(err);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const raw = /'([^']+)'/.exec(text)?.[1] ?? "";
    const name = raw.replace(/^-+/, "");
    const suggestion = closest(name, Object.keys(options));
    return `unknown option '${raw}'${suggestion ? ` (did you mean --${suggestion}?)` : ""}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /'(-{1,2}[^' ]+)/.exec(text)?.[1] ?? "";
    return /does not take an argument/.test(text)
      ? `option ${name} takes no value`
      : `option ${name} needs a value`;
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return `unexpected argument '${/'([^']+)'/.exec(text)?.[1] ?? ""}'`;
  }
  return `${spec.name}: ${text}`;
}

const EXIT_WORDS = ["0", "1", "2"] as const;

/** The command's help, in the one layout every command uses. */
export function usageText(spec: CommandLineSpec): string {
  const lines = spec.synopsis.map((s, i) => `${i === 0 ? "Usage: " : "       "}${s}`);
  lines.push("", spec.description.trimEnd(), "", "Options:");
  const rows = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]) => {
    const flags = [
      ...(o.short ? [`-${o.short}`] : []),
      `--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`,
    ].join(", ");
    const deprecated = (o.aliases ?? []).map((a) => ` (also --${a}, deprecated)`).join("");
    return [flags, `${o.help}${deprecated}`] as const;
  });
  const width = Math.min(32, Math.max(...rows.map(([f]) => f.length)) + 2);
  for (const [flags, help] of rows) {
    lines.push(
      flags.length + 2 > width
        ? `  ${flags}\n  ${" ".repeat(width)}${help}`
        : `  ${flags.padEnd(width)}${help}`,
    );
  }
  if (spec.notes) lines.push("", spec.notes.trimEnd());
  lines.push("", "Exit status:");
  for (const code of EXIT_WORDS)
    lines.push(`  ${code}  ${spec.exitCodes[Number(code) as 0 | 1 | 2]}`);
  return `${lines.join("\n")}\n`;
}

/** What a command prints on stderr for a usage error, before exiting 2. */
export function usageError(spec: CommandLineSpec, message: string): string {
  const short = spec.name.replace(/^nthd /, "");
  return `${spec.name}: ${message}\nUsage: ${spec.synopsis[0]}\nTry 'nthd help ${short}' for more.\n`;
}
