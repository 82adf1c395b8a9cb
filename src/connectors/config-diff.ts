/** Keys whose values are never printed. */
export function isSecretKey(key: string): boolean {
  return /password|secret|token/i.test(key);
}

/** The config with secret values replaced by `****`. */
export function maskConfig(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, isSecretKey(k) ? '****' : v]));
}

export interface ConfigChange {
  key: string;
  /** `+` added, `-` removed, `~` changed. */
  kind: '+' | '-' | '~';
  before?: string;
  after?: string;
}

/** Per-key changes from what Connect has (`undefined`: no connector yet) to what the file says, by key. */
export function diffConfig(current: Record<string, string> | undefined, desired: Record<string, string>): ConfigChange[] {
  const before = current ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(desired)])].sort();
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    // Connect keeps every value as a string, so strings are what is compared.
    const a = before[key] === undefined ? undefined : String(before[key]);
    const b = desired[key];
    if (a === b) continue;
    if (a === undefined) changes.push({ key, kind: '+', after: b });
    else if (b === undefined) changes.push({ key, kind: '-', before: a });
    else changes.push({ key, kind: '~', before: a, after: b });
  }
  return changes;
}

/** A change with secret values masked (a changed secret still shows that it changed). */
export function maskChange(change: ConfigChange): ConfigChange {
  if (!isSecretKey(change.key)) return change;
  const mask = (v: string | undefined) => (v === undefined ? undefined : '****');
  return { ...change, before: mask(change.before), after: mask(change.after) };
}

/** `+ key: value`, `- key: value`, `~ key: before → after`; secrets masked. */
export function formatChange(change: ConfigChange): string {
  const c = maskChange(change);
  if (c.kind === '+') return `+ ${c.key}: ${c.after}`;
  if (c.kind === '-') return `- ${c.key}: ${c.before}`;
  return `~ ${c.key}: ${c.before} → ${c.after}`;
}
