/** What a command gets from its process: where the project is and where to write. */
export interface CliContext {
  /** The repository root: dist/ and package.json are read from here. */
  readonly projectRoot: string;
  /** The directory the user ran the command from: relative paths in arguments start here. */
  readonly cwd: string;
  /** Writes one line of results to standard output. */
  readonly stdout: (line: string) => void;
  /** Writes one line of progress or errors to standard error. */
  readonly stderr: (line: string) => void;
}
