import { createRequire } from 'node:module';
import lz4js from 'lz4js';

/**
 * Kafka's LZ4 is the LZ4 frame format. lz4-napi (lz4_flex, prebuilt per platform on npm) decodes a
 * block about 10× faster than lz4js, but its own frame decoder is slower than lz4js; so the frame
 * is walked here and each block handed to the native block decoder. Frames with linked blocks (a
 * block may copy from the one before) and platforms without a prebuilt binary use lz4js.
 */
type BlockDecoder = (block: Uint8Array, capacity: number) => Buffer;

let native: BlockDecoder | null | undefined;

function nativeDecoder(): BlockDecoder | null {
  if (native !== undefined) return native;
  try {
    const { uncompressSync } = createRequire(import.meta.url)('lz4-napi') as { uncompressSync(data: Uint8Array): Buffer };
    // lz4-napi reads a block prefixed by its size as a u32 LE (the capacity to decode into).
    native = (block, capacity) => {
      const input = Buffer.allocUnsafe(4 + block.length);
      input.writeUInt32LE(capacity, 0);
      input.set(block, 4);
      return uncompressSync(input);
    };
  } catch {
    native = null;
  }
  return native;
}

const MAGIC = 0x184d2204;
const BLOCK_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/** Decompresses one LZ4 frame (as Kafka's producers write it since 0.10). */
export function lz4DecompressFrame(frame: Buffer, decodeBlock: BlockDecoder | null = nativeDecoder()): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== MAGIC) return Buffer.from(lz4js.decompress(frame));
  const flg = frame[4]!;
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const capacity = BLOCK_SIZES[(frame[5]! >> 4) & 0x7];
  if (!decodeBlock || !independent || capacity === undefined) return Buffer.from(lz4js.decompress(frame));
  // FLG, BD, the optional content size (8) and dictionary id (4), then the header checksum.
  let at = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1;
  const blocks: Buffer[] = [];
  let total = 0;
  while (at + 4 <= frame.length) {
    const word = frame.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (at + size > frame.length) throw new Error(`LZ4 frame truncated: a block of ${size} bytes at ${at} runs past its ${frame.length} bytes.`);
    const data = frame.subarray(at, at + size);
    const block = (word & 0x80000000) !== 0 ? data : decodeBlock(data, capacity);
    blocks.push(block);
    total += block.length;
    at += size + (blockChecksum ? 4 : 0);
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total);
}
