import { createRequire } from 'node:module';
import type kafkajs from 'kafkajs';

// Loaded when first needed (kafkajs when a client is made, a decoder when a batch needs it): a
// command that never reads compressed records loads none of them.
const requireModule = createRequire(import.meta.url);
const snappy = () => requireModule('snappyjs') as typeof import('snappyjs');
const lz4 = () => requireModule('lz4js') as typeof import('lz4js');
const zstdDecompress = (data: Buffer) => (requireModule('fzstd') as typeof import('fzstd')).decompress(data);

// Kafka's Java clients frame snappy the way xerial's SnappyOutputStream does: a magic header,
// then length-prefixed raw snappy blocks.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function unsnappy(data: Buffer): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return Buffer.from(snappy().uncompress(data));
  const blocks: Buffer[] = [];
  for (let at = 16; at < data.length; ) {
    const size = data.readUInt32BE(at);
    blocks.push(Buffer.from(snappy().uncompress(data.subarray(at + 4, at + 4 + size))));
    at += 4 + size;
  }
  return Buffer.concat(blocks);
}

const decodeOnly = (name: string, decompress: (data: Buffer) => Buffer) => () => ({
  compress: () => Promise.reject(new Error(`outboxctl reads ${name}-compressed records but does not write them`)),
  decompress: (data: Buffer) => Promise.resolve(decompress(data)),
});

let registered = false;

/**
 * Teaches kafkajs (gzip only out of the box) to read snappy, lz4 and zstd batches, which
 * Java producers commonly write; pure JavaScript decoders, so no native build is needed.
 */
export function registerDecompressionCodecs(): void {
  if (registered) return;
  registered = true;
  const { CompressionCodecs, CompressionTypes } = requireModule('kafkajs') as typeof kafkajs;
  CompressionCodecs[CompressionTypes.Snappy] = decodeOnly('snappy', unsnappy);
  CompressionCodecs[CompressionTypes.LZ4] = decodeOnly('lz4', (d) => Buffer.from(lz4().decompress(d)));
  CompressionCodecs[CompressionTypes.ZSTD] = decodeOnly('zstd', (d) => Buffer.from(zstdDecompress(d)));
}
