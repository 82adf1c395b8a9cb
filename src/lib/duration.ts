import ms from 'ms';
import { UsageError } from './errors.js';

/** `180s`, `3m`, `1500ms` or a plain number of seconds → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : (ms(text as ms.StringValue) as number | undefined);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} "${text}" is not a duration.`, { hint: 'Use a number and a unit, e.g. 180s, 3m or 7d.' });
  }
  return value;
}
