import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceName } from '../../components/types.js';
import type { StackPaths } from '../../paths.js';
import type { LogFollowOptions, LogReadOptions } from '../runtime.js';

/** `<stack>/logs/<service>.log`: stdout and stderr of every start, appended. */
export function serviceLogFile(paths: StackPaths, name: ServiceName): string {
  return path.join(paths.logDir, `${name}.log`);
}

/** Written before each start, so readiness reads only what the current start wrote. */
export function startMarker(name: ServiceName): string {
  return `=== outboxctl: starting ${name} at ${new Date().toISOString()} ===`;
}
const isMarker = (line: string) => line.startsWith('=== outboxctl: starting ');

function lastLines(text: string, options: LogReadOptions): string[] {
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (options.sinceStart) lines = lines.slice(lines.findLastIndex(isMarker) + 1);
  // slice(-0) would be every line.
  return options.tail === undefined ? lines : options.tail === 0 ? [] : lines.slice(-options.tail);
}

export async function readLog(paths: StackPaths, name: ServiceName, options: LogReadOptions = {}): Promise<string[] | undefined> {
  const text = await readFile(serviceLogFile(paths, name), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : lastLines(text, options);
}

function readRange(file: string, start: number, end: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    createReadStream(file, { start, end, encoding: 'utf8' })
      .on('data', (d) => (text += d))
      .on('end', () => resolve(text))
      .on('error', reject);
  });
}

/** The tail up to the file's current size, then polls for appended bytes (a truncated file is read from its start again). */
export async function followLog(paths: StackPaths, name: ServiceName, options: LogFollowOptions): Promise<void> {
  const file = serviceLogFile(paths, name);
  const size = async () => (await stat(file).catch(() => ({ size: 0 }))).size;
  let offset = await size();
  if (options.tail !== undefined && offset > 0)
    for (const line of lastLines(await readRange(file, 0, offset - 1), { tail: options.tail })) options.onLine(line);
  let partial = '';
  while (!options.signal?.aborted) {
    const now = await size();
    if (now < offset) offset = 0;
    if (now > offset) {
      const lines = (partial + (await readRange(file, offset, now - 1))).split('\n');
      offset = now;
      partial = lines.pop()!;
      for (const line of lines) options.onLine(line);
    }
    await sleep(250, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
