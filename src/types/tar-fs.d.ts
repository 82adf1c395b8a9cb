// tar-fs ships no types; outboxctl uses only `pack` (a build context as a tar stream for the Engine API).
declare module 'tar-fs' {
  export function pack(directory: string): NodeJS.ReadableStream;
}
