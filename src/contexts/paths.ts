import os from 'node:os';
import path from 'node:path';

/** The user's home directory: HOME as the command sees it, else the OS's. */
export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** `$XDG_CONFIG_HOME/outboxctl/config.yaml`, else `~/.config/outboxctl/config.yaml`. */
export function configFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homeDir(env), '.config');
  return path.join(base, 'outboxctl', 'config.yaml');
}

/** A path from the config file: `~/` is the home directory, a relative one is relative to `baseDir` (the file's directory). */
export function resolvePath(file: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  if (file === '~' || file.startsWith('~/')) return path.join(homeDir(env), file.slice(1));
  return path.resolve(baseDir, file);
}
