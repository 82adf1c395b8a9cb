import { UsageError, UserError } from '../../lib/errors.js';

/** `--port` as given (0 picks a free one), else `fallback`. */
export function parsePort(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port "${String(value)}" is not a port number (0-65535).`);
  return port;
}

/** Awaits a server's start; a port that is taken becomes one sentence with the fix, exit 1. */
export async function listening<T>(start: Promise<T>, host: string, port: number): Promise<T> {
  try {
    return await start;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UserError('PORT_IN_USE', `Port ${port} on ${host} is already in use.`, { hint: 'Pass another --port (0 picks a free one).' });
    }
    throw error;
  }
}
