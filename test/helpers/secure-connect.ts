import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { HttpTarget } from '../../src/lib/targets.js';
import { renderTemplateFile } from '../../src/lib/template.js';
import { type ArtifactSet, resolveArtifactSet } from '../../src/stack/artifacts.js';
import { CONNECT_PLUGINS, DEBEZIUM_POSTGRES_CLASS } from '../../src/stack/components/connect.js';
import { javaArgs, kafkaArtifacts } from '../../src/stack/components/jvm.js';
import { KAFKA_VERSION } from '../../src/stack/components/versions.js';
import { freePort } from '../../src/stack/ports.js';
import type { TestCertificates } from './certs.js';

/** Kafka's own REST extension for basic auth (`connect-basic-auth-extension`), of the stack's Kafka version. */
export const basicAuthExtension: ArtifactSet = {
  id: `connect-basic-auth-extension-${KAFKA_VERSION}`,
  artifacts: [{ groupId: 'org.apache.kafka', artifactId: 'connect-basic-auth-extension', version: KAFKA_VERSION }],
};

const EXTENSION_CLASS = 'org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension';
const LOGIN_MODULE = 'org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule';

/** A distributed Kafka Connect worker whose REST API wants basic auth (on a plain listener, and a TLS one with `tls`). */
export interface AuthConnect {
  /** `http://127.0.0.1:PORT`, without credentials. */
  url: string;
  port: number;
  username: string;
  password: string;
  /** What a client that does everything right uses on the plain listener: `url` with basic auth. */
  target: HttpTarget;
  /** With `tls`: the TLS listener, `https://127.0.0.1:TLS_PORT`. */
  httpsUrl?: string;
  tlsPort?: number;
  /** With `tls`: `httpsUrl` with basic auth and trust in tls.caCert. */
  httpsTarget?: HttpTarget;
  /** With `tls`: the TLS listener at 127.0.0.2, a name the server certificate lacks. */
  mismatchedUrl?: string;
  pid: number | undefined;
  /** The last lines of the worker's log. */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM, SIGKILL after 20 s. */
  stop(): Promise<void>;
}

export interface AuthConnectOptions {
  /** Config, credentials file, log: all under it. */
  dir: string;
  /** Kafka bootstrap servers the worker joins. */
  bootstrap: string;
  /**
   * Kafka client settings (security.protocol, sasl.*, ssl.*): written bare (the worker's own admin and
   * the config/offset/status topic clients) and with the `producer.`, `consumer.` and `admin.` prefixes
   * (the connectors' clients), so the worker works against a SASL_SSL cluster.
   */
  clientProperties?: Record<string, string>;
  username: string;
  password: string;
  /** Plain REST port (default: a free one). */
  port?: number;
  /** A second REST listener over TLS (certs.serverCert in a PKCS#12 key store made by openssl), on 127.0.0.1 and 127.0.0.2. */
  tls?: TestCertificates;
  /** Its port (default: a free one). */
  tlsPort?: number;
  /** Default `outboxctl-auth-connect-<port>`; the internal topics are named after it. */
  groupId?: string;
  /** Of the internal topics (default 1, the stack's template); a cluster with min.insync.replicas=2 needs 3. */
  replicationFactor?: number;
  /** Default 512. */
  heapMb?: number;
  /** Default 180 s (a worker on a busy two-core machine). */
  startTimeoutMs?: number;
}

/** `key=value` lines for the worker and its connectors' clients. */
export function workerClientProperties(props: Record<string, string>): string[] {
  return ['', 'producer.', 'consumer.', 'admin.'].flatMap((prefix) => Object.entries(props).map(([k, v]) => `${prefix}${k}=${v}`));
}

/** Java properties escaping for a value (backslashes, as in Windows-less paths, stay rare). */
const propValue = (v: string) => v.replace(/\\/g, '\\\\');

/**
 * Starts a worker from the jars the native runtime uses (the Kafka set, the Debezium plugin on
 * plugin.path) plus Kafka's basic-auth REST extension on the class path, with a JAAS file naming a
 * credentials file of one user. Resolves once GET /connector-plugins, with the credentials, lists
 * Debezium; rejects (after stopping it) with the log tail when it does not within the timeout.
 */
export async function startAuthConnect(options: AuthConnectOptions): Promise<AuthConnect> {
  await mkdir(options.dir, { recursive: true });
  const env = process.env;
  const [kafkaDir, extensionDir, ...pluginDirs] = (await Promise.all(
    [kafkaArtifacts, basicAuthExtension, ...CONNECT_PLUGINS].map((set) => resolveArtifactSet(set, { env })),
  )) as [string, string, ...string[]];
  const port = options.port ?? (await freePort());
  const groupId = options.groupId ?? `outboxctl-auth-connect-${port}`;
  const tlsPort = options.tls ? (options.tlsPort ?? (await freePort())) : undefined;

  const credentials = path.join(options.dir, 'credentials.properties');
  await writeFile(credentials, `${options.username}=${options.password}\n`, { mode: 0o600 });
  const jaas = path.join(options.dir, 'connect-jaas.conf');
  await writeFile(jaas, `KafkaConnect {\n  ${LOGIN_MODULE} required\n  file="${credentials}";\n};\n`);
  const log4j = path.join(options.dir, 'log4j2.yaml');
  await writeFile(log4j, await renderTemplateFile('log4j2.yaml', {}));

  const tlsLines: string[] = [];
  if (options.tls) {
    const keystore = path.join(options.dir, 'rest-keystore.p12');
    const storePassword = 'connect-rest';
    await execa('openssl', [
      'pkcs12',
      '-export',
      '-in',
      options.tls.serverCert,
      '-inkey',
      options.tls.serverKey,
      '-name',
      'connect-rest',
      '-out',
      keystore,
      '-passout',
      `pass:${storePassword}`,
    ]);
    tlsLines.push(
      // Plain first: the advertised listener (for forwarding between workers) stays http.
      `listeners=http://127.0.0.1:${port},https://127.0.0.1:${tlsPort},https://127.0.0.2:${tlsPort}`,
      'rest.advertised.listener=http',
      'listeners.https.ssl.keystore.type=PKCS12',
      `listeners.https.ssl.keystore.location=${propValue(keystore)}`,
      `listeners.https.ssl.keystore.password=${storePassword}`,
      `listeners.https.ssl.key.password=${storePassword}`,
      'listeners.https.ssl.client.auth=none',
    );
  }

  // The stack's own worker template, then what this worker changes: later keys win in a properties file.
  const base = await renderTemplateFile('connect/worker.properties', {
    BOOTSTRAP_SERVERS: options.bootstrap,
    HOST: '127.0.0.1',
    ADVERTISED_HOST: '127.0.0.1',
    PORT: port,
    PLUGIN_PATH: pluginDirs.join(','),
    CONFIG_PROVIDERS: '',
  });
  const workerFile = path.join(options.dir, 'worker.properties');
  await writeFile(
    workerFile,
    [
      base,
      '# test/helpers/secure-connect.ts',
      `group.id=${groupId}`,
      `config.storage.topic=_${groupId}-configs`,
      `offset.storage.topic=_${groupId}-offsets`,
      `status.storage.topic=_${groupId}-status`,
      ...(options.replicationFactor ? ['config', 'offset', 'status'].map((store) => `${store}.storage.replication.factor=${options.replicationFactor}`) : []),
      `rest.extension.classes=${EXTENSION_CLASS}`,
      ...tlsLines,
      ...workerClientProperties(options.clientProperties ?? {}),
      '',
    ].join('\n'),
  );

  const args = javaArgs(options.heapMb ?? 512, kafkaDir, log4j, 'org.apache.kafka.connect.cli.ConnectDistributed', [workerFile]);
  // Only the extension's own jar joins the class path: its dependencies are Connect's, already there.
  const cp = args.indexOf('-cp');
  args[cp + 1] = `${args[cp + 1]}:${path.join(extensionDir, 'libs', `connect-basic-auth-extension-${KAFKA_VERSION}.jar`)}`;
  args.unshift(`-Djava.security.auth.login.config=${jaas}`);

  const logFile = path.join(options.dir, 'connect.log');
  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('java', args, { stdio: ['ignore', out, out], env });
  } finally {
    closeSync(out);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logTail = async (lines = 40) => (await readFile(logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)])) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const url = `http://127.0.0.1:${port}`;
  const basic = { username: options.username, password: options.password };
  const target: HttpTarget = { url, basic };
  const httpsUrl = options.tls ? `https://127.0.0.1:${tlsPort}` : undefined;
  try {
    await waitReady(url, options, child, logTail);
    if (httpsUrl) await waitReady(httpsUrl, options, child, logTail);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    username: options.username,
    password: options.password,
    target,
    ...(options.tls
      ? {
          httpsUrl,
          tlsPort,
          httpsTarget: { url: httpsUrl!, basic, tls: { caFile: options.tls.caCert } },
          mismatchedUrl: `https://127.0.0.2:${tlsPort}`,
        }
      : {}),
    pid: child.pid,
    logTail,
    stop,
  };
}

async function waitReady(url: string, options: AuthConnectOptions, child: ChildProcess, logTail: () => Promise<string>): Promise<void> {
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  const deadline = Date.now() + timeoutMs;
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const { Agent, request } = await import('node:https');
  const http = await import('node:http');
  const https = url.startsWith('https:');
  const agent = https && options.tls ? new Agent({ ca: await readFile(options.tls.caCert), keepAlive: false }) : undefined;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Kafka Connect exited (${child.exitCode}) before it was ready:\n${await logTail()}`);
    last = await new Promise<string>((resolve) => {
      const req = (https ? request : http.request)(`${url}/connector-plugins`, { headers: { authorization }, agent, timeout: 5_000 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          resolve(res.statusCode === 200 && body.includes(DEBEZIUM_POSTGRES_CLASS) ? 'ready' : `HTTP ${res.statusCode}: ${body.slice(0, 200)}`),
        );
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => resolve(e.message));
      req.end();
    });
    if (last === 'ready') return;
    await sleep(1_000);
  }
  throw new Error(`Kafka Connect at ${url} was not ready within ${timeoutMs / 1000}s (last: ${last}):\n${await logTail()}`);
}
