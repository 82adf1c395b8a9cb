import { describe, expect, it } from 'vitest';
import { decodeMetadataResponse, encodeMetadataRequest } from '../../src/clients/kafka-metadata.js';

/** A Metadata v4 response body (after the correlation id), written field by field as a broker writes it. */
function responseBody(): Buffer {
  const parts: Buffer[] = [];
  const int8 = (n: number) => parts.push(Buffer.from([n]));
  const int16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    parts.push(b);
  };
  const int32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    parts.push(b);
  };
  const str = (s: string | null) => {
    if (s === null) return int16(-1);
    int16(Buffer.byteLength(s));
    parts.push(Buffer.from(s));
  };
  int32(0); // throttle
  int32(1); // brokers
  int32(1);
  str('127.0.0.1');
  int32(9092);
  str(null); // rack
  str('cluster-id');
  int32(1); // controller
  int32(2); // topics
  int16(0);
  str('parcel.outbox');
  int8(0);
  int32(2); // partitions
  for (const p of [1, 0]) {
    int16(0);
    int32(p);
    int32(1);
    int32(1);
    int32(1); // replicas [1]
    int32(1);
    int32(1); // isr [1]
  }
  int16(5); // LEADER_NOT_AVAILABLE
  str('__consumer_offsets');
  int8(1);
  int32(0);
  return Buffer.concat(parts);
}

describe('Kafka Metadata v4 codec', () => {
  it('asks for every topic with a null array, for none with an empty one, and never auto-creates', () => {
    expect(encodeMetadataRequest(undefined).toString('hex')).toBe('ffffffff00');
    expect(encodeMetadataRequest([]).toString('hex')).toBe('0000000000');
    expect(encodeMetadataRequest(['ab']).toString('hex')).toBe('00000001000261620' + '0');
  });

  it('reads brokers, topics and partitions in the order the broker lists them', () => {
    const m = decodeMetadataResponse(responseBody());
    expect(m.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: 9092 }]);
    expect(m.controllerId).toBe(1);
    expect(m.topics.map((t) => [t.name, t.errorCode, t.internal, t.partitions.map((p) => p.partition)])).toEqual([
      ['parcel.outbox', 0, false, [1, 0]],
      ['__consumer_offsets', 5, true, []],
    ]);
    expect(m.topics[0]!.partitions[0]).toEqual({ errorCode: 0, partition: 1, leader: 1, replicas: [1], isr: [1] });
  });

  it('throws on a truncated response instead of reading past its end', () => {
    const body = responseBody();
    expect(() => decodeMetadataResponse(body.subarray(0, body.length - 3))).toThrow(/ends early/);
  });
});
