// Row 7: commit → searchable at a steady create rate through the stack's tracking server,
// beside the refresh interval of the events index (the floor).

import { setTimeout as sleep } from 'node:timers/promises';
import { refreshInterval } from '../lib/parse.mjs';
import { http, log, now } from '../lib/proc.mjs';
import { summarize } from '../lib/stats.mjs';

const INDEX = 'parcel.outbox';

/** Polls the events index for new ParcelCreated documents, in indexing order (by _seq_no on its one shard). */
class Observer {
  constructor(es) {
    this.es = es;
    this.searchable = new Map();
    this.running = true;
    this.polls = 0;
  }

  async start() {
    const last = await http(`${this.es}/${INDEX}/_search`, { method: 'POST', body: { size: 1, sort: [{ _seq_no: 'desc' }], _source: false } }).catch(
      () => null,
    );
    this.searchAfter = last?.hits?.hits?.[0]?.sort;
    this.polling = this.poll();
  }

  async poll() {
    while (this.running) {
      const body = {
        size: 5000,
        sort: [{ _seq_no: 'asc' }],
        _source: ['aggregateId'],
        query: { term: { eventType: 'ParcelCreated' } },
        ...(this.searchAfter ? { search_after: this.searchAfter } : {}),
      };
      const r = await http(`${this.es}/${INDEX}/_search`, { method: 'POST', body }).catch(() => undefined);
      this.polls++;
      const t = now();
      for (const hit of r?.hits?.hits ?? []) {
        if (!this.searchable.has(hit._source.aggregateId)) this.searchable.set(hit._source.aggregateId, t);
        this.searchAfter = hit.sort;
      }
      if (!r?.hits?.hits?.length) await sleep(20);
    }
  }

  async stop() {
    this.running = false;
    await this.polling;
  }
}

/** Creates parcels at `rate`/s for `seconds`: each id with the time its 201 (the commit) came back. */
async function drive(url, rate, seconds) {
  const committed = new Map();
  let failed = 0;
  const started = now();
  const total = Math.round(rate * seconds);
  const inFlight = new Set();
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - now();
    if (wait > 1) await sleep(wait);
    const request = fetch(`${url}/api/parcel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: `latency ${i}` }),
    })
      .then(async (r) => {
        if (r.status !== 201) throw new Error(String(r.status));
        const p = await r.json();
        committed.set(p.id, now());
      })
      .catch(() => {
        failed++;
      });
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
    if (inFlight.size > 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { committed, failed, achieved: committed.size / ((now() - started) / 1000) };
}

async function settle(observer, ids, timeoutMs) {
  const deadline = now() + timeoutMs;
  while (now() < deadline && ids.some((id) => !observer.searchable.has(id))) await sleep(100);
}

export async function latency({ short, endpoints }) {
  const rate = 500;
  const seconds = short ? 10 : 30;
  const settings = await http(`${endpoints.elasticsearch}/${INDEX}/_settings?include_defaults=true&filter_path=**.refresh_interval`);
  const refresh = refreshInterval(settings);
  const observer = new Observer(endpoints.elasticsearch);
  await observer.start();
  try {
    // Warm-up (JIT, connections, the index): not in the figures.
    const warm = await drive(endpoints.tracking, 50, 2);
    await settle(observer, [...warm.committed.keys()], 30_000);
    log(`latency: ${rate} parcels/s for ${seconds} s`);
    const run = await drive(endpoints.tracking, rate, seconds);
    const ids = [...run.committed.keys()];
    await settle(observer, ids, 30_000);
    const lags = ids.filter((id) => observer.searchable.has(id)).map((id) => observer.searchable.get(id) - run.committed.get(id));
    const stats = summarize(lags);
    const floor = refresh?.ms ?? null;
    const over = typeof stats.p99 === 'number' && floor !== null ? stats.p99 - floor : null;
    const missing = ids.length - lags.length;
    return {
      figure: `commit → searchable, p99 at ${rate} events/s${run.achieved < rate * 0.9 ? ` (only ${Math.round(run.achieved)}/s reached)` : ''}`,
      unit: 'ms',
      stats,
      cpu: null,
      peer: {
        label: `refresh interval in force (${refresh ? `${refresh.text}, ${refresh.source}` : 'unknown'})`,
        unit: 'ms',
        stats: floor === null ? null : { median: floor },
        cpu: null,
      },
      ratio: { value: over, text: over === null ? '—' : `p99 ${over >= 0 ? '+' : '−'}${Math.abs(Math.round(over))} ms over refresh` },
      target: 'p99 ≤ refresh interval + 300 ms',
      met: over === null ? null : over <= 300 && missing === 0 && run.achieved >= rate * 0.9,
      error: lags.length === 0 ? `none of ${ids.length} parcels became searchable within 30 s of the load` : null,
      notes: [
        `the stack's tracking server (\`up\`), ${ids.length} parcels created at ${rate}/s for ${seconds} s by fetch from the harness (achieved ${Math.round(run.achieved)}/s, ${run.failed} failed), after a 2 s warm-up at 50/s; each timed from its 201 (the commit) until a \`_search\` of ${INDEX} (polled continuously, ${observer.polls} searches) returned it.`,
        `refresh interval of ${INDEX} in force: ${refresh ? `${refresh.text} (${refresh.source}, from _settings?include_defaults)` : 'not readable'}; median = p50; runs = events; ${missing} not searchable within 30 s after the load.`,
      ],
    };
  } finally {
    await observer.stop();
  }
}
