/**
 * The demo's terminal output: headings, indented text and aligned tables, in colour only on a terminal.
 * Every line printed is also kept, so the demo can check its own output for secrets before it ends.
 */

/** How a piece of text is emphasised on a colour terminal; plain text elsewhere. */
export type Style = "bold" | "dim" | "good" | "bad" | "key";

const ANSI: Readonly<Record<Style, readonly [string, string]>> = {
  bold: ["\u001b[1m", "\u001b[22m"],
  dim: ["\u001b[2m", "\u001b[22m"],
  good: ["\u001b[32m", "\u001b[39m"],
  bad: ["\u001b[31m", "\u001b[39m"],
  key: ["\u001b[36m", "\u001b[39m"],
};

/** One table cell: its text, and how to emphasise it. */
export interface Cell {
  readonly text: string;
  readonly style?: Style | undefined;
}

export type CellInput = string | Cell;

/**
 * Colour only for a person at a terminal: not when piped or captured, not with NO_COLOR
 * (https://no-color.org) or TERM=dumb.
 */
export function wantsColour(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb";
}

export class Output {
  readonly #write: (line: string) => void;
  readonly #colour: boolean;
  readonly #lines: string[] = [];

  constructor(write: (line: string) => void, colour: boolean) {
    this.#write = write;
    this.#colour = colour;
  }

  /** Everything printed so far, without colour codes. */
  get text(): string {
    return this.#lines.join("\n");
  }

  style(text: string, style: Style | undefined): string {
    if (!this.#colour || style === undefined || text === "") return text;
    const [open, close] = ANSI[style];
    return `${open}${text}${close}`;
  }

  /** A line, indented by `indent` spaces; `styled` is the same text with colour codes, when it differs. */
  line(text = "", indent = 0, styled?: string): void {
    const pad = " ".repeat(indent);
    this.#lines.push(`${pad}${text}`.trimEnd());
    this.#write(`${pad}${this.#colour && styled !== undefined ? styled : text}`.trimEnd());
  }

  /** A section heading with a blank line before it, and a right-hand note (status, duration). */
  heading(title: string, note?: { readonly text: string; readonly style?: Style }): void {
    this.line();
    const plain = note === undefined ? title : `${title}  ${note.text}`;
    const styled =
      note === undefined
        ? this.style(title, "bold")
        : `${this.style(title, "bold")}  ${this.style(note.text, note.style)}`;
    this.line(plain, 0, styled);
  }

  /** Several lines of text (e.g. a runbook summary), each indented. */
  block(text: string, indent = 2): void {
    for (const line of text.split("\n")) this.line(line, indent);
  }

  /** A check result: ✓ or ✗ and what was checked. */
  check(ok: boolean, text: string, indent = 2): void {
    const mark = ok ? "✓" : "✗";
    this.line(`${mark} ${text}`, indent, `${this.style(mark, ok ? "good" : "bad")} ${text}`);
  }

  /** Label and value pairs, labels aligned (no header). */
  fields(rows: readonly (readonly [string, string])[], indent = 2): void {
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, value] of rows) {
      this.line(
        `${label.padEnd(width)}  ${value}`,
        indent,
        `${this.style(label.padEnd(width), "dim")}  ${value}`,
      );
    }
  }

  /** An aligned table with upper-case headers; columns are padded by their plain text. */
  table(headers: readonly string[], rows: readonly (readonly CellInput[])[], indent = 2): void {
    const cells = rows.map((row) =>
      row.map((cell): Cell => (typeof cell === "string" ? { text: cell } : cell)),
    );
    const widths = headers.map((header, column) =>
      Math.max(header.length, ...cells.map((row) => row[column]?.text.length ?? 0)),
    );
    const render = (row: readonly Cell[]) => {
      const padded = row.map((cell, column) =>
        column === row.length - 1 ? cell.text : cell.text.padEnd(widths[column] ?? 0),
      );
      const styled = row.map((cell, column) => this.style(padded[column] ?? "", cell.style));
      this.line(padded.join("  "), indent, styled.join("  "));
    };
    const header = headers.map((text): Cell => ({ text: text.toUpperCase(), style: "dim" }));
    render(header);
    for (const row of cells) render(row);
  }
}
