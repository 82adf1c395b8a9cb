import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { component } from '../../src/stack/components/index.js';
import { kafkaClusterIdFrom } from '../../src/stack/components/kafka.js';
import type { ContainerContext } from '../../src/stack/components/types.js';
import { fingerprint, imageSource } from '../../src/stack/runtimes/docker/images.js';
import { componentRuntime, resolveRuntime, withImageOverrides } from '../../src/stack/up.js';
import { progressThrottle } from '../../src/ui/plain-progress.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-pure-'));

/** A unix socket that answers the Engine API's ping, as an engine would. */
async function pingingSocket(): Promise<{ host: string; close(): Promise<void> }> {
  const dir = await tmp();
  const socket = path.join(dir, 'engine.sock');
  const server = http.createServer((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { host: `unix://${socket}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('which runtime a stack gets', () => {
  it('auto: docker for a new stack when an engine answers, native when none does; an existing stack keeps its runtime', async () => {
    const engine = await pingingSocket();
    try {
      expect(await resolveRuntime('auto', { DOCKER_HOST: engine.host }, 's')).toBe('docker');
      expect(await resolveRuntime('auto', { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, 's')).toBe('native');
      expect(await resolveRuntime('auto', { DOCKER_HOST: engine.host }, 's', 'native')).toBe('native');
      expect(await resolveRuntime('native', { DOCKER_HOST: engine.host }, 's')).toBe('native');
      expect(await resolveRuntime('docker', {}, 's')).toBe('docker');
    } finally {
      await engine.close();
    }
  });

  it('an explicit runtime other than the stack was created with is refused in one sentence', async () => {
    await expect(resolveRuntime('docker', {}, 'shop', 'native')).rejects.toThrow(
      'Stack "shop" was created with the native runtime, so --runtime docker cannot start it.',
    );
  });

  it("outboxctl's own services are host processes in the Docker runtime; infrastructure runs in containers", () => {
    expect(
      ['postgres', 'kafka', 'elasticsearch', 'connect', 'sink', 'tracking', 'auditing'].map((s) => componentRuntime('docker', component(s as 'postgres'))),
    ).toEqual(['docker', 'docker', 'docker', 'docker', 'native', 'native', 'native']);
    expect(componentRuntime('native', component('kafka'))).toBe('native');
  });
});

describe('image overrides', () => {
  it('--image SERVICE=REF becomes OUTBOXCTL_IMAGE_<SERVICE> over the environment', () => {
    const env = withImageOverrides({ OUTBOXCTL_IMAGE_KAFKA: 'a:1', PATH: '/bin' }, ['kafka=b:2', 'postgres=postgres:16.9']);
    expect(env).toMatchObject({ OUTBOXCTL_IMAGE_KAFKA: 'b:2', OUTBOXCTL_IMAGE_POSTGRES: 'postgres:16.9', PATH: '/bin' });
  });

  it.each([['kafka'], ['tracking=x:1'], ['nosuch=x:1'], ['kafka=']])('--image %s is a usage error naming the services', (bad) => {
    expect(() => withImageOverrides({}, [bad])).toThrow(/is not SERVICE=IMAGE with SERVICE one of postgres, kafka, elasticsearch, connect\./);
  });

  it('the override wins, then the image the last container ran, then the pinned default (connect builds from compose/connect)', async () => {
    const kafka = component('kafka');
    expect(await imageSource(kafka, { OUTBOXCTL_IMAGE_KAFKA: 'my/kafka:1' }, 'old/kafka:0')).toEqual({ ref: 'my/kafka:1' });
    expect(await imageSource(kafka, {}, 'old/kafka:0')).toEqual({ ref: 'old/kafka:0', build: undefined });
    expect(await imageSource(kafka, {})).toEqual({ ref: kafka.container!.image, build: undefined });
    const connect = await imageSource(component('connect'), {});
    expect(connect.ref).toBe(component('connect').container!.image);
    expect(connect.build).toMatch(/compose\/connect$/);
  });

  it('a directory is built and tagged by a fingerprint that changes with its files only', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
    await mkdir(path.join(dir, 'libs'));
    await writeFile(path.join(dir, 'libs', 'a.jar'), 'a');
    await utimes(path.join(dir, 'libs', 'a.jar'), 1_700_000_000, 1_700_000_000);
    const first = await imageSource(component('kafka'), { OUTBOXCTL_IMAGE_KAFKA: dir });
    expect(first).toEqual({ ref: `localhost/outboxctl-local/kafka:${await fingerprint(dir)}`, build: dir });
    expect(await fingerprint(dir)).toBe(await fingerprint(dir));
    await writeFile(path.join(dir, 'libs', 'b.jar'), 'b');
    expect((await imageSource(component('kafka'), { OUTBOXCTL_IMAGE_KAFKA: dir })).ref).not.toBe(first.ref);
    await rm(path.join(dir, 'Dockerfile'));
    await expect(imageSource(component('kafka'), { OUTBOXCTL_IMAGE_KAFKA: dir })).rejects.toThrow(/is a directory without a Dockerfile\./);
  });
});

describe('container sections', () => {
  const ctx = (over: Partial<ContainerContext> = {}): ContainerContext => ({
    stack: 'shop',
    ports: { main: 9092, controller: 9093 },
    hostPorts: { main: 41000, controller: 41001 },
    clientHost: '127.0.0.1',
    endpoints: { kafka: 'kafka:19092' },
    secret: async (name) => `secret-${name}`,
    env: {},
    ...over,
  });

  it('Kafka: one listener for the stack network, one advertised to the host on its published port, storage formatted with a valid cluster id', async () => {
    const env = await component('kafka').container!.env!(ctx());
    expect(env.KAFKA_LISTENERS).toBe('INTERNAL://:19092,EXTERNAL://:9092,CONTROLLER://:9093');
    expect(env.KAFKA_ADVERTISED_LISTENERS).toBe('INTERNAL://kafka:19092,EXTERNAL://127.0.0.1:41000');
    expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(Buffer.from(env.CLUSTER_ID!, 'base64url')).toHaveLength(16);
    expect(env.KAFKA_HEAP_OPTS).toMatch(/-Xmx\d+m/);
  });

  it('a cluster id derived from a seed is stable, 16 bytes, never starting with "-"', () => {
    const ids = Array.from({ length: 500 }, (_, i) => kafkaClusterIdFrom(`seed-${i}`));
    expect(new Set(ids).size).toBe(500);
    for (const id of ids) {
      expect(id.startsWith('-')).toBe(false);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
    expect(kafkaClusterIdFrom('x')).toBe(kafkaClusterIdFrom('x'));
  });

  it('PostgreSQL runs with logical decoding and stops on SIGINT; Connect scans for plugins without manifests', async () => {
    const pg = component('postgres').container!;
    expect(pg.command!(ctx())).toEqual(['postgres', '-c', 'wal_level=logical', '-c', 'max_wal_senders=10', '-c', 'max_replication_slots=10']);
    expect(pg.stopSignal).toBe('SIGINT');
    expect(await pg.env!(ctx())).toEqual({ POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'secret-postgresPassword', POSTGRES_DB: 'outbox' });
    const connect = await component('connect').container!.env!(ctx({ ports: { main: 8083 }, hostPorts: { main: 41002 } }));
    expect(connect).toMatchObject({ CONNECT_BOOTSTRAP_SERVERS: 'kafka:19092', CONNECT_PLUGIN_DISCOVERY: 'hybrid_warn', CONNECT_REST_PORT: '8083' });
  });
});

describe('progress on pipes', () => {
  it('messages that differ only in numbers print at most once per interval; others at once', () => {
    let now = 0;
    const shows = progressThrottle(3_000, () => now);
    const seen: string[] = [];
    const say = (m: string) => shows('', m) && seen.push(m);
    for (let i = 1; i <= 400; i++) {
      now = i * 50; // 400 downloads in 20 s
      say(`resolving kafka-4.3.1: ${i} files downloaded`);
    }
    say('resolved kafka-4.3.1: 120 jars');
    say('kafka: pulling apache/kafka:4.3.1: 1 MB / 90 MB');
    say('postgres: pulling postgres:17.11: 1 MB / 90 MB');
    expect(seen.length).toBeLessThanOrEqual(1 + Math.ceil(20_000 / 3_000) + 3);
    expect(seen[0]).toBe('resolving kafka-4.3.1: 1 files downloaded');
    expect(seen.slice(-3)).toEqual([
      'resolved kafka-4.3.1: 120 jars',
      'kafka: pulling apache/kafka:4.3.1: 1 MB / 90 MB',
      'postgres: pulling postgres:17.11: 1 MB / 90 MB',
    ]);
  });
});
