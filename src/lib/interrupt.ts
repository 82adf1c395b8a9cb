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

/**
 * Runs `fn` with a signal that Ctrl-C and the caller's signal abort (checked before each step and
 * during each wait); the interrupt handler waits for `fn` to stop what it started before the exit.
 */
export async function interruptible<T>(outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (outer?.aborted) controller.abort();
  const forwardAbort = () => controller.abort();
  outer?.addEventListener('abort', forwardAbort);
  let settled!: () => void;
  const done = new Promise<void>((resolve) => (settled = resolve));
  const forgetInterrupt = onInterrupt(async () => {
    controller.abort();
    await done;
  });
  try {
    return await fn(controller.signal);
  } finally {
    outer?.removeEventListener('abort', forwardAbort);
    settled();
    forgetInterrupt();
  }
}
