import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ContextTargets } from '../lib/config.js';
import { configFile } from './paths.js';
import { requestedContext, selectContext } from './select.js';

/**
 * The context `--context`, OUTBOXCTL_CONTEXT or the config file's current-context selects, as
 * endpoint resolution takes it; undefined for the local stack. The file is read only when needed.
 */
export async function loadSelectedContext(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<ContextTargets | undefined> {
  const request = requestedContext(flags.context, env);
  if (request.kind === 'local') return undefined;
  // Most commands run without contexts: no file, no YAML parser to load.
  if (request.kind === 'file' && !existsSync(configFile(env))) return undefined;
  const [{ loadConfig }, { contextTargets }] = await Promise.all([import('./store.js'), import('./targets.js')]);
  const config = await loadConfig(env);
  const selected = selectContext(request, config.current, Object.keys(config.contexts), config.file);
  if (selected === undefined) return undefined;
  return contextTargets(selected, config.contexts[selected]!, { env, baseDir: path.dirname(config.file) });
}
