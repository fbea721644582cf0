/** One `airlock` subcommand: its name, what `airlock --help` says about it, and how it runs. */
export interface Command {
  name: string;
  /** Synopsis lines, e.g. `airlock login --issuer URL --client-id ID`, then indented detail lines. */
  usage: string;
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}
