/**
 * Migration versions as Flyway's MigrationVersion has them: `_` reads as `.`, parts are
 * big integers, trailing zero parts do not count (1 = 1.0 = 01), and the text is kept as written.
 */
export interface Version {
  /** As stored in flyway_schema_history.version: `V1_1__x.sql` → `1.1`, `V01__x.sql` → `01`. */
  text: string;
  parts: bigint[];
}

const VERSION_TEXT = /^\d+(\.\d+)*$/;

export function parseVersion(raw: string): Version | undefined {
  const text = raw.replace(/_/g, '.');
  if (!VERSION_TEXT.test(text)) return undefined;
  const parts = text.split('.').map((p) => BigInt(p));
  while (parts.length > 1 && parts[parts.length - 1] === 0n) parts.pop();
  return { text, parts };
}

export function compareVersions(a: Version, b: Version): number {
  const n = Math.max(a.parts.length, b.parts.length);
  for (let i = 0; i < n; i++) {
    const x = a.parts[i] ?? 0n;
    const y = b.parts[i] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A key equal for versions Flyway considers equal. */
export function versionKey(v: Version): string {
  return v.parts.join('.');
}
