import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describeBrokers } from '../../src/clients/kafka.js';
import { retry } from '../../src/lib/retry.js';
import type { KafkaTarget } from '../../src/lib/targets.js';
import { resolveArtifactSet } from '../../src/stack/artifacts.js';
import { javaArgs, kafkaArtifacts } from '../../src/stack/components/jvm.js';
import { kafkaClusterId } from '../../src/stack/components/kafka.js';
import { freePort } from '../../src/stack/ports.js';
import { makeTestCertificates, type TestCertificates } from './certs.js';

/** A KRaft cluster of combined broker+controller nodes with a SASL_SSL (SCRAM-SHA-512) listener each. */
export interface SecureKafka {
  /** Bootstrap of the SASL_SSL listeners (127.0.0.1:port,…); the server certificate names 127.0.0.1 and localhost. */
  saslSsl: string;
  /** Bootstrap of a PLAINTEXT listener on each broker, for setup and for speaking TLS to a plaintext port. */
  plaintext: string;
  /** The one SCRAM-SHA-512 user. */
  username: string;
  password: string;
  certs: TestCertificates;
  /** The SASL_SSL target a client that does everything right uses. */
  target: KafkaTarget;
  /** Node ids, 1…N. */
  nodeIds: number[];
  /** The SASL_SSL port of a node (any interface answers on it: 127.0.0.2 is a name the certificate lacks). */
  saslSslPort(nodeId: number): number;
  brokerPid(nodeId: number): number | undefined;
  /** SIGKILL one node and wait for its exit. */
  kill(nodeId: number): Promise<void>;
  /** Start a killed (or stopped) node again and wait until the cluster lists it. */
  restart(nodeId: number): Promise<void>;
  /** The last lines of a node's log (for failure messages). */
  logTail(nodeId: number, lines?: number): Promise<string>;
  /** SIGTERM every node, SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export interface SecureKafkaOptions {
  /** Everything goes under it: certificates, configs, data, logs. */
  dir: string;
  brokers?: number;
  /** Per node (default 384). */
  heapMb?: number;
  /** Default 150 s (a loaded two-core machine can take over a minute). */
  startTimeoutMs?: number;
}

interface NodePorts {
  internal: number;
  plain: number;
  saslSsl: number;
  controller: number;
}

/** A PEM file as one Java properties value (escaped newlines). */
async function pemValue(...files: string[]): Promise<string> {
  const text = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n').trim();
  return text.replace(/\r?\n/g, '\\n');
}

const LOG4J = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
`;

function properties(nodeId: number, ports: Map<number, NodePorts>, logDirs: string, pem: { key: string; chain: string; ca: string }): string {
  const p = ports.get(nodeId)!;
  const voters = [...ports].map(([id, q]) => `${id}@127.0.0.1:${q.controller}`).join(',');
  return [
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${voters}`,
    // SASL_SSL on every interface: 127.0.0.2 reaches it under a name the certificate does not carry.
    `listeners=INTERNAL://127.0.0.1:${p.internal},PLAIN://127.0.0.1:${p.plain},SASL_SSL://:${p.saslSsl},CONTROLLER://127.0.0.1:${p.controller}`,
    `advertised.listeners=INTERNAL://127.0.0.1:${p.internal},PLAIN://127.0.0.1:${p.plain},SASL_SSL://127.0.0.1:${p.saslSsl}`,
    'listener.security.protocol.map=INTERNAL:PLAINTEXT,PLAIN:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=INTERNAL',
    'controller.listener.names=CONTROLLER',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type=PEM',
    `ssl.keystore.certificate.chain=${pem.chain}`,
    `ssl.keystore.key=${pem.key}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.certificates=${pem.ca}`,
    // A client certificate is checked when one is offered (mutual TLS), not required.
    'ssl.client.auth=requested',
    `log.dirs=${logDirs}`,
    'num.partitions=1',
    'default.replication.factor=3',
    'min.insync.replicas=2',
    'offsets.topic.replication.factor=3',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=3',
    'transaction.state.log.min.isr=2',
    'share.coordinator.state.topic.replication.factor=3',
    'share.coordinator.state.topic.min.isr=2',
    'auto.create.topics.enable=false',
    'group.initial.rebalance.delay.ms=0',
    // Long enough that a node starved of CPU by its neighbours is not fenced, short enough for a killed leader to move soon.
    'broker.session.timeout.ms=6000',
    'broker.heartbeat.interval.ms=1000',
    // Small segments and few threads: three brokers share two cores with other tests.
    'num.network.threads=2',
    'num.io.threads=2',
    'num.replica.fetchers=1',
    'log.segment.bytes=16777216',
    '',
  ].join('\n');
}

/**
 * Starts an N-node KRaft cluster (every node broker and controller) from the Maven-resolved jars
 * the native runtime runs, with a SASL_SSL listener (SCRAM-SHA-512, PEM key stores from
 * certs.ts), a PLAINTEXT one and an inter-broker one per node; resolves when describeBrokers
 * lists all N brokers on the SASL_SSL listener.
 */
export async function startSecureKafka(options: SecureKafkaOptions): Promise<SecureKafka> {
  const count = options.brokers ?? 3;
  const heapMb = options.heapMb ?? 384;
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const certs = await makeTestCertificates(path.join(dir, 'certs'));
  const jars = await resolveArtifactSet(kafkaArtifacts, { env: process.env });
  const username = 'alice';
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const nodeIds = Array.from({ length: count }, (_, i) => i + 1);
  const ports = new Map<number, NodePorts>();
  const taken = new Set<number>();
  const pick = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  for (const id of nodeIds) ports.set(id, { internal: await pick(), plain: await pick(), saslSsl: await pick(), controller: await pick() });

  const pem = { key: await pemValue(certs.serverKey), chain: await pemValue(certs.serverCert, certs.caCert), ca: await pemValue(certs.caCert) };
  const log4j = path.join(dir, 'log4j2.yaml');
  await writeFile(log4j, LOG4J);
  const clusterId = kafkaClusterId();
  const configOf = (id: number) => path.join(dir, `node-${id}`, 'server.properties');
  const logOf = (id: number) => path.join(dir, `node-${id}`, 'kafka.log');

  await Promise.all(
    nodeIds.map(async (id) => {
      const nodeDir = path.join(dir, `node-${id}`);
      await mkdir(path.join(nodeDir, 'data'), { recursive: true });
      await writeFile(configOf(id), properties(id, ports, path.join(nodeDir, 'data'), pem));
    }),
  );
  await Promise.all(
    nodeIds.map(async (id) => {
      const args = javaArgs(256, jars, log4j, 'kafka.tools.StorageTool', [
        'format',
        '-t',
        clusterId,
        '-c',
        configOf(id),
        '--add-scram',
        `SCRAM-SHA-512=[name=${username},password=${password}]`,
      ]);
      const result = await execa('java', ['-XX:TieredStopAtLevel=1', ...args], { reject: false, all: true });
      if (result.exitCode !== 0) throw new Error(`kafka-storage format of node ${id} failed: ${(result.all ?? '').trim().split('\n').slice(-5).join('\n')}`);
    }),
  );

  const children = new Map<number, ChildProcess>();
  const launch = (id: number) => {
    const out = openSync(logOf(id), 'a');
    // C1 only: a quicker start on a shared machine, fast enough for a test's traffic.
    const child = spawn('java', ['-XX:TieredStopAtLevel=1', ...javaArgs(heapMb, jars, log4j, 'kafka.Kafka', [configOf(id)])], { stdio: ['ignore', out, out] });
    closeSync(out);
    children.set(id, child);
  };
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test process that dies leaves no broker behind.
  const onExit = () => {
    for (const child of children.values()) child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  const saslSsl = nodeIds.map((id) => `127.0.0.1:${ports.get(id)!.saslSsl}`).join(',');
  const plaintext = nodeIds.map((id) => `127.0.0.1:${ports.get(id)!.plain}`).join(',');
  const target: KafkaTarget = { brokers: saslSsl, tls: { caFile: certs.caCert }, sasl: { mechanism: 'scram-sha-512', username, password } };
  const logTail = async (id: number, lines = 30) => (await readFile(logOf(id), 'utf8').catch(() => '')).trim().split('\n').slice(-lines).join('\n');

  const waitForBrokers = async (expected: number, deadlineMs: number) => {
    await retry(
      async () => {
        for (const [id, child] of children) {
          if (child.exitCode !== null) throw Object.assign(new Error(`Kafka node ${id} exited (${child.exitCode}):\n${await logTail(id)}`), { fatal: true });
        }
        const brokers = await describeBrokers(target);
        if (brokers.length < expected) throw new Error(`${brokers.length} of ${expected} brokers listed`);
      },
      { deadlineMs, initialDelayMs: 500, factor: 1.5, maxDelayMs: 2_000, retryable: (e) => !(e as { fatal?: boolean }).fatal },
    );
  };

  const stop = async () => {
    process.removeListener('exit', onExit);
    await Promise.all(
      [...children.values()].map(async (child) => {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited(child);
        clearTimeout(timer);
      }),
    );
  };

  for (const id of nodeIds) launch(id);
  try {
    await waitForBrokers(count, options.startTimeoutMs ?? 150_000);
  } catch (error) {
    const logs = await Promise.all(nodeIds.map(async (id) => `--- node ${id}\n${await logTail(id, 15)}`));
    await stop();
    throw new Error(`The secure Kafka cluster did not start: ${(error as Error).message}\n${logs.join('\n')}`);
  }

  return {
    saslSsl,
    plaintext,
    username,
    password,
    certs,
    target,
    nodeIds,
    saslSslPort: (id) => ports.get(id)!.saslSsl,
    brokerPid: (id) => children.get(id)?.pid,
    async kill(id) {
      const child = children.get(id);
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart(id) {
      const child = children.get(id);
      if (child && child.exitCode === null && child.signalCode === null) return;
      launch(id);
      await waitForBrokers(count, 120_000);
    },
    logTail,
    stop,
  };
}
