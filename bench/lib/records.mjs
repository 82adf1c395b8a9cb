// Pure: the records the data rows write, in the shapes the pipeline carries.

import { randomUUID } from 'node:crypto';

/** Pure: the parcel rows and outbox rows of one transaction, in the shape the tracking server writes (ParcelRepository.create). */
export function drainBatch(count, at = new Date(), seq = 0) {
  const iso = at.toISOString();
  const parcels = [];
  const events = [];
  for (let i = 0; i < count; i++) {
    const parcel = { id: randomUUID(), contents: `drain ${seq + i}`, status: 'registered', version: 1, createdAt: iso, updatedAt: iso };
    parcels.push(parcel);
    events.push({ id: randomUUID(), aggregateid: parcel.id, type: 'ParcelCreated', payload: JSON.stringify({ parcel, changed: ['contents', 'status'] }) });
  }
  return { parcels, events };
}

/** Pure: N records (key TAB value lines) in the shape of one real parcel.outbox record, each with its own event and parcel id. */
export function replayRecords(sample, count) {
  const value = JSON.parse(sample.value);
  const eventId = value.eventId;
  const parcelId = value.aggregateId;
  if (!eventId || !parcelId) throw new Error('the sample record has no eventId or aggregateId');
  const lines = [];
  for (let i = 0; i < count; i++) {
    const e = randomUUID();
    const p = randomUUID();
    lines.push(`${sample.key.replaceAll(parcelId, p)}\t${sample.value.replaceAll(eventId, e).replaceAll(parcelId, p)}`);
  }
  return lines;
}
