/**
 * Finds where a JSON text stops being valid, as an offset. V8's JSON.parse names a position for some
 * errors but not for others (a trailing comma reads "Unexpected token '}'"), and users need a line and
 * column for every one of them, so this small scanner walks the JSON grammar (RFC 8259) itself.
 * Returns undefined when the text is valid.
 */
export function jsonErrorOffset(text: string): number | undefined {
  return scanJson(text, undefined);
}

/** A field name that appears more than once in the same JSON object. */
export interface DuplicateJsonKey {
  /** The field name (decoded, as JSON.parse sees it). */
  readonly key: string;
  /** Where the repeated occurrence starts (its opening quote). */
  readonly offset: number;
  /** The path of the object holding it, e.g. `["Repos", 1]`; empty for the top level. */
  readonly path: readonly (string | number)[];
}

/**
 * Every repeated field name of every object in a JSON text, in document order. JSON.parse keeps the last
 * value of a repeated field and silently drops the others, so `{"Repos":[...],"Repos":[...]}` would lose a
 * whole list without a word. Returns [] for text that is not valid JSON (jsonErrorOffset reports that).
 */
export function jsonDuplicateKeys(text: string): DuplicateJsonKey[] {
  const found: DuplicateJsonKey[] = [];
  const invalid = scanJson(text, (key, offset, path) => found.push({ key, offset, path }));
  return invalid === undefined ? found : [];
}

type OnDuplicate = (key: string, offset: number, path: (string | number)[]) => void;

/** One open object or array; the scanner keeps them on an explicit stack, so nesting depth is unbounded. */
interface Frame {
  readonly kind: "object" | "array";
  /** The key (object) or index (array) under which the next value is stored. */
  at: string | number;
  /** Field names seen so far (objects, only when duplicates are looked for). */
  keys: Set<string> | undefined;
}

/**
 * Walks the JSON grammar without recursion (a document nested 100,000 levels deep must not overflow the
 * stack), returning the offset of the first error or undefined. Calls `onDuplicate` for each repeated key.
 */
function scanJson(text: string, onDuplicate: OnDuplicate | undefined): number | undefined {
  let i = 0;
  const stack: Frame[] = [];
  const ws = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw new JsonStop(i);
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = (): void => {
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const next = text[i + 1] ?? "";
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
          i += 6;
        } else if ('"\\/bfnrt'.includes(next) && next !== "") i += 2;
        else fail();
      } else i++;
    }
    fail();
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const number = (): void => {
    numberPattern.lastIndex = i;
    const match = numberPattern.exec(text);
    if (!match) fail();
    i += match?.[0].length ?? 0;
  };
  /** A field name and its colon; remembers it in the object's frame. */
  const key = (frame: Frame): void => {
    ws();
    if (text[i] !== '"') fail();
    const start = i;
    string();
    if (onDuplicate) {
      // The token is a valid JSON string here; decoding it compares names as JSON.parse does ("\u0052" is "R").
      const name = JSON.parse(text.slice(start, i)) as string;
      frame.at = name;
      frame.keys ??= new Set();
      if (frame.keys.has(name)) {
        onDuplicate(
          name,
          start,
          stack.slice(0, -1).map((f) => f.at),
        );
      } else frame.keys.add(name);
    }
    ws();
    if (text[i] !== ":") fail();
    i++;
  };

  try {
    for (;;) {
      // A value is expected at i.
      ws();
      const c = text[i];
      let opened = false;
      if (c === "{" || c === "[") {
        i++;
        ws();
        if (text[i] === (c === "{" ? "}" : "]")) i++;
        else {
          const frame: Frame = { kind: c === "{" ? "object" : "array", at: 0, keys: undefined };
          stack.push(frame);
          if (frame.kind === "object") key(frame);
          opened = true;
        }
      } else if (c === '"') string();
      else if (c === "t") literal("true");
      else if (c === "f") literal("false");
      else if (c === "n") literal("null");
      else number();
      if (opened) continue;
      // A value ended: close containers until one continues with a comma, or the document ends.
      for (;;) {
        const frame = stack.at(-1);
        ws();
        if (frame === undefined) return i < text.length ? i : undefined;
        if (text[i] === ",") {
          i++;
          if (frame.kind === "object") key(frame);
          else frame.at = (frame.at as number) + 1;
          break;
        }
        if (text[i] === (frame.kind === "object" ? "}" : "]")) {
          i++;
          stack.pop();
        } else fail();
      }
    }
  } catch (error) {
    if (error instanceof JsonStop) return error.offset;
    throw error;
  }
}

class JsonStop {
  constructor(readonly offset: number) {}
}
