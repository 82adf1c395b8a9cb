import { z } from 'zod';
import { PARCEL_STATUSES } from '../tracking/parcel.js';

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
    .refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), {
      message: `Parameter "${name}" must be an ISO date or time, e.g. 2026-11-26T10:00:00Z`,
    })
    .transform((s) => new Date(s).toISOString())
    .optional();

const size = z.coerce
  .number({ error: 'Parameter "size" must be a whole number from 1 to 500' })
  .int('Parameter "size" must be a whole number from 1 to 500')
  .min(1, 'Parameter "size" must be a whole number from 1 to 500')
  .max(500, 'Parameter "size" must be a whole number from 1 to 500')
  .default(50);

const cursor = z
  .string()
  .transform((s, ctx) => {
    try {
      const parsed = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
      if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((v) => typeof v === 'string' || typeof v === 'number'))
        return parsed as (string | number)[];
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'Parameter "cursor" is not a cursor this server issued; use nextCursor from the previous page' });
    return z.NEVER;
  })
  .optional();

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
  type: z.string().min(1, 'Parameter "type" must not be empty').max(200).optional(),
  aggregateId: z.string().min(1, 'Parameter "aggregateId" must not be empty').max(255).optional(),
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
