import { crc32 } from 'node:zlib';

/**
 * The checksum Flyway stores: CRC32 over the script's lines as UTF-8 with the line
 * terminators dropped and a leading BOM stripped, as a signed 32-bit integer.
 */
export function flywayChecksum(content: Buffer | string): number {
  let text = typeof content === 'string' ? content : content.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return crc32(Buffer.from(text.replace(/[\r\n]/g, ''), 'utf8')) | 0;
}
