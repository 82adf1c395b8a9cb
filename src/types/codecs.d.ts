// Minimal typings for the pure-JavaScript decoders kafka-codecs.ts uses.
declare module 'lz4js' {
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
}
declare module 'snappyjs' {
  export function uncompress(src: Uint8Array): Uint8Array;
  export function compress(src: Uint8Array): Uint8Array;
}
