import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceName } from '../../components/types.js';
import type { StackPaths } from '../../paths.js';
import type { LogFollowOptions } from '../runtime.js';
import { tailFile } from './process.js';

/** `<stack>/logs/<service>.log`: stdout and stderr of every start, appended. */
export function serviceLogFile(paths: StackPaths, name: ServiceName): string {
  return path.join(paths.logDir, `${name}.log`);
}

export async function readLog(paths: StackPaths, name: ServiceName, tail = Number.MAX_SAFE_INTEGER): Promise<string[] | undefined> {
  const file = serviceLogFile(paths, name);
  if (!existsSync(file)) return undefined;
  return tailFile(file, tail);
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

/** Polls the log file for appended bytes (a truncated file is read from its start again). */
export async function followLog(paths: StackPaths, name: ServiceName, options: LogFollowOptions): Promise<void> {
  const file = serviceLogFile(paths, name);
  const size = async () => (await stat(file).catch(() => ({ size: 0 }))).size;
  let offset = await size();
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
