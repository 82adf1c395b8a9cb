import createDebug from 'debug';

/** Namespaced debug logger (`DEBUG=outboxctl:*`); writes to stderr only. */
export function createLogger(namespace: string): createDebug.Debugger {
  return createDebug(`outboxctl:${namespace}`);
}

/** `--verbose` turns on every outboxctl namespace for the rest of the process. */
export function enableVerboseLogging(): void {
  const current = createDebug.disable();
  createDebug.enable([current, 'outboxctl:*'].filter(Boolean).join(','));
}
