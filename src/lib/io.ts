/**
 * The process's streams, environment and directory as commands see them: apart from output.ts so
 * the CLI's entry can take them without loading chalk (`--help` renders no colour).
 */
export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  /** Read by commands that take input (`topic produce`); tests pass a Readable of their own. */
  stdin: NodeJS.ReadableStream;
  stdout: Stream;
  stderr: Stream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The real process's streams, environment and directory. */
export function processIo(): Io {
  return {
    // Node creates process.stdin on first access (a handle on the pipe or TTY): only a command that reads input should.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
}
