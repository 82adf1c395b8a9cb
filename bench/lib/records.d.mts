export interface DrainParcel {
  id: string;
  contents: string;
  status: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}
export function drainBatch(
  count: number,
  at?: Date,
  seq?: number,
): { parcels: DrainParcel[]; events: { id: string; aggregateid: string; type: string; payload: string }[] };
export function replayRecords(sample: { key: string; value: string }, count: number): string[];
