import { z } from 'zod';
import { PARCEL_STATUSES, type Parcel } from '../../clients/tracking-api.js';
import { UUID } from '../../lib/uuid.js';
import { parseIsoTime } from '../iso-time.js';

export { PARCEL_STATUSES, type Parcel, type ParcelStatus } from '../../clients/tracking-api.js';

export const MAX_CONTENTS = 10_000;

/** Length in characters (code points), as PostgreSQL's char_length counts them. */
const codePoints = (s: string): number => [...s].length;

/** An unpaired UTF-16 surrogate: JSON allows `"\ud800"`, UTF-8 (and so PostgreSQL) has no encoding for it. */
const LONE_SURROGATE = /\p{Cs}/u;

const contents = z
  .string({ error: (issue) => (issue.input === undefined ? 'Field "contents" is required' : 'Field "contents" must be a string') })
  .refine((s) => s.length >= 1, { message: 'Field "contents" must not be empty' })
  // A string has at most as many code points as UTF-16 units: only a long one needs counting.
  .refine((s) => s.length <= MAX_CONTENTS || codePoints(s) <= MAX_CONTENTS, { message: `Field "contents" must be at most ${MAX_CONTENTS} characters` })
  .refine((s) => !s.includes('\u0000'), { message: 'Field "contents" contains a NUL character (\\u0000), which PostgreSQL text cannot store; remove it' })
  .refine((s) => !LONE_SURROGATE.test(s), {
    message:
      'Field "contents" contains an unpaired surrogate (\\ud800-\\udfff), which is no character; send a high and a low surrogate together, or the character itself',
  });

const status = z.enum(PARCEL_STATUSES, { error: () => `Field "status" must be one of ${PARCEL_STATUSES.join(', ')}` });

export const createParcelBody = z.strictObject(
  { contents },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown field "${issue.keys.join('", "')}"` : 'The body must be a JSON object') },
);

export const updateParcelBody = z
  .strictObject(
    { contents: contents.optional(), status: status.optional() },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown field "${issue.keys.join('", "')}"` : 'The body must be a JSON object') },
  )
  .refine((b) => b.contents !== undefined || b.status !== undefined, { message: 'Give "contents" and/or "status" to change' });

export type CreateParcel = z.infer<typeof createParcelBody>;
export type UpdateParcel = z.infer<typeof updateParcelBody>;

export interface FieldProblem {
  field?: string;
  detail: string;
}

/** The first problem of a failed parse, with the offending field where there is one. */
export function firstProblem(error: z.ZodError): FieldProblem {
  const issue = error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.length > 0 ? issue.path.join('.') : undefined;
  return { field, detail: issue.message };
}

/** The problem with a path's parcel id, in both servers' words; undefined when it is a UUID. */
export const parcelIdProblem = (id: string): string | undefined => (UUID.test(id) ? undefined : `"${id}" is not a parcel id (a UUID)`);

/** The outbox event types the tracking server writes (the auditing server's `type` filter accepts only these). */
export const EVENT_TYPES = ['ParcelCreated', 'ParcelUpdated'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

export function decodeCursor(text: string): Cursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [createdAt, id] = value as unknown[];
    // A time PostgreSQL cannot read (2026-02-30, which Date.parse rolls over) would fail the query, not the request.
    if (typeof createdAt !== 'string' || typeof id !== 'string' || !UUID.test(id) || parseIsoTime(createdAt) === undefined) return undefined;
    return { createdAt, id };
  } catch {
    return undefined;
  }
}

/** `"3"`, `W/"3"` or `3` → 3; `*` → 'any'; anything else → undefined (a bad header). */
export function parseIfMatch(header: string): number | 'any' | undefined {
  const value = header.trim();
  if (value === '*') return 'any';
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** Fields whose value an update would change, in a stable order. */
export function changedFields(current: Pick<Parcel, 'contents' | 'status'>, update: UpdateParcel): ('contents' | 'status')[] {
  const changed: ('contents' | 'status')[] = [];
  if (update.contents !== undefined && update.contents !== current.contents) changed.push('contents');
  if (update.status !== undefined && update.status !== current.status) changed.push('status');
  return changed;
}
