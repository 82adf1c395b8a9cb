import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-write.js';
import type { StackPaths } from '../paths.js';

/**
 * Secrets a service reads from files instead of its configuration: Kafka Connect resolves
 * `${file:<dir>/debezium.properties:password}` in connector configs through its FileConfigProvider
 * (KIP-297), so the Debezium role's password is in neither Connect's REST answers nor its config
 * topic. The files live in `<stack>/secrets/` (mode 0700).
 */
export const DEBEZIUM_SECRET_FILE = 'debezium.properties';
/** Where a Connect container finds them (each file mounted read-only), Compose's secrets directory too. */
export const CONTAINER_SECRETS_DIR = '/run/secrets';

/** `<stack>/secrets`: the directory of the stack's secret files (the native Connect's `allowed.paths`). */
export function stackSecretsDir(paths: Pick<StackPaths, 'dir'>): string {
  return path.join(paths.dir, 'secrets');
}

/** A value as java.util.Properties reads it back unchanged. */
export function propertiesValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/^[ \t\f]/, (c) => `\\${c}`);
}

/** The content of debezium.properties: the key `password` for `${file:…:password}`. */
export function debeziumSecretContent(password: string): string {
  return `# Written by outboxctl: the debezium role's password, for Kafka Connect's FileConfigProvider.\npassword=${propertiesValue(password)}\n`;
}

/**
 * Writes a secret file of the stack (atomically, with exactly `mode`) in its 0700 secrets directory
 * and returns its path. 0600 for a process of this user; 0644 for a container's user (another uid),
 * which only reaches the file through its read-only mount: on the host the directory keeps others out.
 */
export async function writeSecretFile(paths: Pick<StackPaths, 'dir'>, name: string, content: string, mode: 0o600 | 0o644): Promise<string> {
  const dir = stackSecretsDir(paths);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = path.join(dir, name);
  await writeFileAtomic(file, content, mode);
  // The umask may have taken bits away; the mode is exactly what is asked for.
  await chmod(file, mode);
  return file;
}
