import { z } from 'zod';
import { parseIsoTime } from '../iso-time.js';
import { EVENT_TYPES, PARCEL_STATUSES, parcelIdProblem } from '../tracking/parcel.js';

/** The indices the sink writes (see templates/elasticsearch/index-templates.json). */
export const EVENTS_INDEX = 'parcel.outbox';
export const PARCELS_INDEX = 'parcels';

/** A bad query parameter, named, for a 400 problem. */
export class ParameterError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

const time = (name: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const ms = parseIsoTime(s);
      if (ms !== undefined) return new Date(ms).toISOString();
      ctx.addIssue({ code: 'custom', message: `Parameter "${name}" must be an ISO date or time of a real day, e.g. 2026-11-26T10:00:00Z` });
      return z.NEVER;
    })
    .optional();

const size = z.coerce
  .number({ error: 'Parameter "size" must be a whole number from 1 to 500' })
  .int('Parameter "size" must be a whole number from 1 to 500')
  .min(1, 'Parameter "size" must be a whole number from 1 to 500')
  .max(500, 'Parameter "size" must be a whole number from 1 to 500')
  .default(50);

/** The widest epoch milliseconds a JavaScript Date (and so this server's answers) can hold. */
const MAX_EPOCH_MS = 8.64e15;

/**
 * A page's cursor is the last hit's sort values: [a date as epoch milliseconds, the id that breaks
 * ties]. A date given as an ISO string is read here, so the engine never sees one it would refuse.
 */
export function decodeCursor(text: string): { ok: true; sortValues: [number, string] } | { ok: false; problem?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return { ok: false };
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return { ok: false };
  const [at, id] = parsed as unknown[];
  if (typeof id !== 'string' || id.length < 1 || id.length > 255) return { ok: false };
  if (typeof at === 'number') return Number.isSafeInteger(at) && Math.abs(at) <= MAX_EPOCH_MS ? { ok: true, sortValues: [at, id] } : { ok: false };
  if (typeof at !== 'string') return { ok: false };
  const ms = parseIsoTime(at);
  return ms === undefined ? { ok: false, problem: `its date "${at.slice(0, 40)}" is not a real day and time` } : { ok: true, sortValues: [ms, id] };
}

const cursor = z
  .string()
  .transform((s, ctx) => {
    const decoded = decodeCursor(s);
    if (decoded.ok) return decoded.sortValues;
    const why = decoded.problem ? ` (${decoded.problem})` : '';
    ctx.addIssue({ code: 'custom', message: `Parameter "cursor" is not a cursor this server issued${why}; use nextCursor from the previous page` });
    return z.NEVER;
  })
  .optional();

const parcelId = (name: string) =>
  z.string().transform((s, ctx) => {
    const problem = parcelIdProblem(s);
    if (!problem) return s.toLowerCase();
    ctx.addIssue({ code: 'custom', message: `Parameter "${name}" is invalid: ${problem}` });
    return z.NEVER;
  });

export const parcelsParams = z.strictObject({
  status: z.enum(PARCEL_STATUSES, { error: () => `Parameter "status" must be one of ${PARCEL_STATUSES.join(', ')}` }).optional(),
  q: z.string().trim().min(1, 'Parameter "q" must not be empty').max(200, 'Parameter "q" must be at most 200 characters').optional(),
  since: time('since'),
  until: time('until'),
  size,
  cursor,
  sort: z.enum(['updatedAt', 'createdAt'], { error: () => 'Parameter "sort" must be updatedAt or createdAt' }).default('updatedAt'),
  order: z.enum(['asc', 'desc'], { error: () => 'Parameter "order" must be asc or desc' }).default('desc'),
});

export const eventsParams = z.strictObject({
  type: z.enum(EVENT_TYPES, { error: () => `Parameter "type" must be one of the event types ${EVENT_TYPES.join(', ')}` }).optional(),
  aggregateId: parcelId('aggregateId').optional(),
  since: time('since'),
  until: time('until'),
  size,
  cursor,
});

export const statsParams = z.strictObject({
  interval: z.enum(['1m', '1h', '1d'], { error: () => 'Parameter "interval" must be 1m, 1h or 1d' }).default('1h'),
  since: time('since'),
  until: time('until'),
});

/** Validates query parameters; the first problem names its parameter (an unknown one too). */
export function parseParams<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw new ParameterError(issue.keys[0]!, `Unknown parameter "${issue.keys[0]}"`);
  const parameter = String(issue.path[0] ?? '');
  const message = issue.message.startsWith('Parameter') ? issue.message : `Parameter "${parameter}" is invalid: ${issue.message}`;
  throw new ParameterError(parameter, message);
}

export const encodeCursor = (sort: unknown[] | undefined): string | null => (sort ? Buffer.from(JSON.stringify(sort)).toString('base64url') : null);

function range(field: string, since?: string | number, until?: string | number): Record<string, unknown>[] {
  if (!since && !until) return [];
  return [{ range: { [field]: { ...(since ? { gte: since } : {}), ...(until ? { lt: until } : {}) } } }];
}

/** Pure: the search body of `GET /parcels` — filters, a stable sort (id breaks ties), search_after. */
export function parcelsQuery(p: z.infer<typeof parcelsParams>): Record<string, unknown> {
  const filter = [...(p.status ? [{ term: { status: p.status } }] : []), ...range('updatedAt', p.since, p.until)];
  const must = p.q ? [{ match: { contents: { query: p.q, operator: 'and' } } }] : [];
  return {
    size: p.size,
    query: { bool: { filter, must } },
    sort: [{ [p.sort]: p.order }, { id: p.order }],
    ...(p.cursor ? { search_after: p.cursor } : {}),
  };
}

/** Pure: the search body of `GET /events` (and of a parcel's history), oldest first. */
export function eventsQuery(p: z.infer<typeof eventsParams>): Record<string, unknown> {
  const filter = [
    ...(p.type ? [{ term: { eventType: p.type } }] : []),
    ...(p.aggregateId ? [{ term: { aggregateId: p.aggregateId } }] : []),
    ...range('occurredAt', p.since && Date.parse(p.since), p.until && Date.parse(p.until)),
  ];
  return { size: p.size, query: { bool: { filter } }, sort: [{ occurredAt: 'asc' }, { eventId: 'asc' }], ...(p.cursor ? { search_after: p.cursor } : {}) };
}

/** Pure: one parcel's events in version order (the version the event carries, then time). */
export function historyQuery(id: string): Record<string, unknown> {
  return {
    size: 1000,
    query: { bool: { filter: [{ term: { aggregateId: id } }] } },
    sort: [{ 'payload.parcel.version': { order: 'asc', unmapped_type: 'long' } }, { occurredAt: 'asc' }, { eventId: 'asc' }],
  };
}

/** Pure: the aggregations of `GET /stats` — events by type and over time; parcels by status. */
export function statsQueries(p: z.infer<typeof statsParams>): { events: Record<string, unknown>; parcels: Record<string, unknown> } {
  const filter = range('occurredAt', p.since && Date.parse(p.since), p.until && Date.parse(p.until));
  return {
    events: {
      size: 0,
      query: { bool: { filter } },
      aggs: {
        byType: { terms: { field: 'eventType', size: 100 } },
        overTime: { date_histogram: { field: 'occurredAt', fixed_interval: p.interval, min_doc_count: 1 } },
      },
    },
    parcels: { size: 0, aggs: { byStatus: { terms: { field: 'status', size: 20 } } } },
  };
}
