import { describe, expect, it } from 'vitest';
import { withPg } from '../../src/clients/pg.js';
import { migrate } from '../../src/migrations/engine.js';
import { defaultLocation } from '../../src/migrations/scripts.js';
import { cli } from '../helpers/cli.js';
import { freshDatabase, query } from '../helpers/db.js';

describe('db prune-outbox', () => {
  it('deletes only rows older than the given age; --dry-run counts them', async () => {
    const url = await freshDatabase('prune');
    await withPg(url, (c) => migrate(c, { locations: [defaultLocation()] }));
    await query(
      url,
      `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, occurred_at)
       SELECT gen_random_uuid(), 'parcel', 'p' || i, 'ParcelCreated', '{}'::jsonb,
              (now() AT TIME ZONE 'UTC') - make_interval(days => i) + interval '12 hours'
       FROM generate_series(0, 9) AS i`,
    );
    const dry = await cli(['db', 'prune-outbox', '--older-than', '7d', '--dry-run', '--json', '--database-url', url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, wouldDelete: 2 });
    expect((await query(url, 'SELECT 1 FROM outbox')).length).toBe(10);

    const real = await cli(['db', 'prune-outbox', '--older-than', '7d', '--database-url', url]);
    expect(real.stdout.trim()).toBe('Deleted 2 outbox rows older than 7 days.');
    const left = await query<{ aggregateid: string }>(url, 'SELECT aggregateid FROM outbox ORDER BY occurred_at DESC');
    expect(left.map((r) => r.aggregateid)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);

    const bad = await cli(['db', 'prune-outbox', '--older-than', 'soon', '--database-url', url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--older-than "soon" is not a duration.');
  });
});
