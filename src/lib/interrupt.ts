/** Cleanups to run when the user interrupts a command (Ctrl-C), newest first. */
const cleanups = new Set<() => Promise<void>>();

export function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs each registered cleanup once; a cleanup may unregister others (they then do not run). */
export async function runInterruptCleanups(): Promise<void> {
  while (cleanups.size > 0) {
    const newest = [...cleanups].pop()!;
    cleanups.delete(newest);
    await newest().catch(() => undefined);
  }
}
