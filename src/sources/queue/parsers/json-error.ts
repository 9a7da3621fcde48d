/**
 * Where a body stops being JSON. V8's JSON.parse messages give a position only
 * for some faults, so after a failed parse this small scanner walks the text
 * (iteratively: no recursion, so deep nesting is safe) and returns the index
 * of the first character that cannot continue a JSON document.
 */

const WS = new Set([" ", "\t", "\n", "\r"]);
// Sticky: each matches exactly at lastIndex.
const LITERAL = /true|false|null/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: raw control characters are invalid in JSON strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Length of the token `re` matches at `at`, or 0. */
function tokenAt(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.exec(text)?.[0].length ?? 0;
}

/** Index of the first offending character; text.length if the text ends early. */
export function jsonErrorIndex(text: string): number {
  const stack: string[] = []; // "{" or "[" per open container
  // expect: what may come next
  let expect: "value" | "key" | "colon" | "comma-or-close" | "end" = "value";
  let i = 0;
  let afterOpen = false; // an empty container may close right away
  while (i < text.length) {
    const ch = text[i] as string;
    if (WS.has(ch)) {
      i++;
      continue;
    }
    if (expect === "end") return i;
    if (expect === "colon") {
      if (ch !== ":") return i;
      expect = "value";
      i++;
      continue;
    }
    if (ch === "}" || ch === "]") {
      const open = stack.at(-1);
      const closes = (ch === "}" && open === "{") || (ch === "]" && open === "[");
      if (!closes || !(expect === "comma-or-close" || afterOpen)) return i;
      stack.pop();
      afterOpen = false;
      expect = stack.length === 0 ? "end" : "comma-or-close";
      i++;
      continue;
    }
    afterOpen = false;
    if (expect === "comma-or-close") {
      if (ch !== ",") return i;
      expect = stack.at(-1) === "{" ? "key" : "value";
      i++;
      continue;
    }
    if (expect === "key") {
      if (ch !== '"') return i;
      const n = tokenAt(STRING, text, i);
      if (n === 0) return stringFault(text, i);
      i += n;
      expect = "colon";
      continue;
    }
    // expect === "value"
    if (ch === "{" || ch === "[") {
      stack.push(ch);
      expect = ch === "{" ? "key" : "value";
      afterOpen = true;
      i++;
      continue;
    }
    const re = ch === '"' ? STRING : ch === "-" || (ch >= "0" && ch <= "9") ? NUMBER : LITERAL;
    const n = tokenAt(re, text, i);
    if (n === 0) return ch === '"' ? stringFault(text, i) : i;
    i += n;
    expect = stack.length === 0 ? "end" : "comma-or-close";
  }
  return text.length;
}

/** Inside a string that failed to match: the bad escape, raw control character, or the end. */
function stringFault(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c < 0x20) return j;
    if (text[j] === "\\") {
      if (!/^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(j + 1, j + 6))) return j;
      j += text[j + 1] === "u" ? 5 : 1;
    }
  }
  return text.length;
}
