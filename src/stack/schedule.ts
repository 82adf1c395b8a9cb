/** What runs next: the items and, for each, the indices of the items it waits for. */
export interface Graph<T> {
  items: readonly T[];
  deps: readonly (readonly number[])[];
}

/**
 * Runs every item once all it waits for are done, as many at once as are ready. `current` is read
 * again after each item finishes, so an item may replace the items after it (by identity, what ran
 * stays done). The first failure aborts the signal given to the items still running, waits for them
 * to end, and is thrown; nothing new starts after it. Aborting `outer` ends it the same way.
 */
export async function runGraph<T>(current: () => Graph<T>, run: (item: T, signal: AbortSignal) => Promise<void>, outer?: AbortSignal): Promise<void> {
  const controller = new AbortController();
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  outer?.addEventListener('abort', forward, { once: true });
  const done = new Set<T>();
  const running = new Map<T, Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for (;;) {
      const { items, deps } = current();
      if (!failure) {
        items.forEach((item, i) => {
          if (done.has(item) || running.has(item) || !(deps[i] ?? []).every((j) => done.has(items[j]!))) return;
          const settled = run(item, controller.signal)
            .then(
              () => void done.add(item),
              (error: unknown) => {
                failure ??= { error };
                controller.abort(error);
              },
            )
            .finally(() => running.delete(item));
          running.set(item, settled);
        });
      }
      if (running.size === 0) {
        if (failure) throw failure.error;
        if (items.some((item) => !done.has(item))) throw new Error('the plan has steps that wait for each other');
        return;
      }
      await Promise.race(running.values());
    }
  } finally {
    outer?.removeEventListener('abort', forward);
  }
}
