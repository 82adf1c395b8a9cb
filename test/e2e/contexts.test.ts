import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, spawnCli } from '../helpers/cli.js';
import { freshDatabase } from '../helpers/db.js';

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Sandbox {
  env: NodeJS.ProcessEnv;
  config: string;
  home: string;
}

/** An empty XDG_CONFIG_HOME and OUTBOXCTL_HOME of their own, and no endpoint variables from the test's environment. */
async function sandbox(): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-contexts-'));
  const env = {
    PATH: process.env.PATH,
    HOME: root,
    XDG_CONFIG_HOME: path.join(root, 'config'),
    OUTBOXCTL_HOME: path.join(root, 'home'),
    // Unset (the test helpers default it to local): these tests select contexts by current-context too.
    OUTBOXCTL_CONTEXT: undefined,
  };
  return { env, config: path.join(root, 'config', 'outboxctl', 'config.yaml'), home: path.join(root, 'home') };
}

const run = (box: Sandbox, argv: string[], extra: NodeJS.ProcessEnv = {}) => spawnCli(argv, { ...box.env, ...extra });

/** The first line of stderr is `error: ` and one sentence. */
const oneSentence = (stderr: string) => {
  const line = stderr.split('\n')[0]!;
  expect(line).toMatch(/^error: [^\n]+\.$/);
  return line;
};

describe('outboxctl context create|use|list|show|delete', () => {
  it('round trip, file modes, literal warnings, masking', async () => {
    const box = await sandbox();
    const created = await run(box, [
      'context',
      'create',
      'staging',
      '--bootstrap-server',
      'k1:9093,k2:9093',
      '--kafka-tls',
      '--kafka-sasl-mechanism',
      'scram-sha-512',
      '--kafka-username',
      'alice',
      '--kafka-password',
      'Lit3ral-Kafka-Pw',
      '--connect-url',
      'https://connect:8083',
      '--connect-username',
      'admin',
      '--connect-password',
      'env:CONNECT_PW',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('warning: --kafka-password is stored as a literal in the config file; prefer env:VAR or file:PATH.');
    expect(created.stderr).not.toContain('--connect-password');
    expect(created.stdout).toContain('Created context "staging" (kafka, connect)');
    expect((await stat(box.config)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(box.config))).mode & 0o777).toBe(0o700);
    expect(await readFile(box.config, 'utf8')).toContain('password: Lit3ral-Kafka-Pw');

    const again = await run(box, ['context', 'create', 'staging', '--tracking-url', 'http://t']);
    expect(again.code).toBe(1);
    expect(oneSentence(again.stderr)).toContain('Context "staging" already exists');
    const dev = await run(box, ['context', 'create', 'dev', '--tracking-url', 'http://t:8080', '--use']);
    expect(dev.code, dev.stderr).toBe(0);

    const list = await run(box, ['context', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({
      current: 'dev',
      contexts: [
        { name: 'dev', current: true, endpoints: ['tracking'] },
        { name: 'staging', current: false, endpoints: ['kafka', 'connect'] },
      ],
    });
    expect((await run(box, ['context', 'list'])).stdout).toMatch(/^\*\s+dev\s+tracking$/m);

    const show = await run(box, ['context', 'show', 'staging']);
    expect(show.stdout).toContain('password: "****"');
    expect(show.stdout).toContain('password: env:CONNECT_PW');
    const shown = JSON.parse((await run(box, ['context', 'show', 'staging', '--json'])).stdout);
    expect(shown.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: '****' });
    expect(shown.kafka.tls).toBe(true);
    expect(shown.connect.password).toBe('env:CONNECT_PW');
    // Without NAME: the selected one (current-context, then OUTBOXCTL_CONTEXT, then --context).
    expect(JSON.parse((await run(box, ['context', 'show', '--json'])).stdout).name).toBe('dev');
    expect(JSON.parse((await run(box, ['context', 'show', '--json'], { OUTBOXCTL_CONTEXT: 'staging' })).stdout).name).toBe('staging');

    const use = await run(box, ['context', 'use', 'staging']);
    expect(use.code, use.stderr).toBe(0);
    expect(JSON.parse((await run(box, ['context', 'list', '--json'])).stdout).current).toBe('staging');
    const deleted = await run(box, ['context', 'delete', 'staging']);
    expect(deleted.stdout).toContain('there is no current context now');
    const after = JSON.parse((await run(box, ['context', 'list', '--json'])).stdout);
    expect(after).toMatchObject({ current: null, contexts: [{ name: 'dev' }] });
    expect((await run(box, ['context', 'use', 'dev'])).code).toBe(0);
    expect((await run(box, ['context', 'use', 'local'])).code).toBe(0);
    expect(JSON.parse((await run(box, ['context', 'list', '--json'])).stdout).current).toBeNull();

    const unknown = await run(box, ['context', 'use', 'prod']);
    expect(unknown.code).toBe(2);
    expect(oneSentence(unknown.stderr)).toBe('error: Context "prod" does not exist: the contexts are dev.');
    const reserved = await run(box, ['context', 'create', 'local', '--tracking-url', 'http://t']);
    expect(reserved.code).toBe(2);
    const badFlag = await run(box, ['context', 'create', 'x', '--bootstrap-server', 'k:1', '--kafka-sasl-mechanism', 'gssapi']);
    expect(badFlag.code).toBe(2);
    expect(oneSentence(badFlag.stderr)).toContain('--kafka-sasl-mechanism "gssapi" is not one of plain, scram-sha-256, scram-sha-512');
  });

  it('a hand-edited bad file: one sentence with the line and the field, for every command that reads it', async () => {
    const box = await sandbox();
    await mkdir(path.dirname(box.config), { recursive: true });
    await writeFile(
      box.config,
      [
        'current-context: s',
        'contexts:',
        '  s:',
        '    kafka:',
        '      bootstrap-servers: k:1',
        '      sasl:',
        '        mechanism: kerberos',
        '        username: u',
        '        password: Hand-Pw-1',
        '',
      ].join('\n'),
    );
    for (const argv of [['topic', 'list'], ['context', 'list'], ['status']]) {
      const r = await run(box, argv);
      expect(r.code).toBe(1);
      expect(oneSentence(r.stderr)).toBe(`error: ${box.config} line 7: contexts.s.kafka.sasl.mechanism is not one of plain, scram-sha-256, scram-sha-512.`);
      expect(r.stderr).not.toContain('Hand-Pw-1');
    }
    // --context local never reads the file: the local stack's own answer.
    const local = await run(box, ['--context', 'local', 'status']);
    expect(oneSentence(local.stderr)).toMatch(/^error: There is no stack "default" under /);
  });
});

describe('commands on a context', () => {
  let box: Sandbox;
  let kafkaPort: number;
  let statePort: number;
  const secrets = ['Kafka-Pw-9f2', 'Connect-Pw-7a1', 'Es-Pw-3c8', 'Db-Pw-5d0', 'Tracking-Tok-2b6', 'Auditing-Tok-8e4'];

  beforeAll(async () => {
    box = await sandbox();
    kafkaPort = await closedPort();
    statePort = await closedPort();
    const ports = await Promise.all([closedPort(), closedPort(), closedPort(), closedPort(), closedPort()]);
    const [connect, search, db, tracking, auditing] = ports;
    const created = await run(box, [
      'context',
      'create',
      'remote',
      '--bootstrap-server',
      `127.0.0.1:${kafkaPort}`,
      '--kafka-sasl-mechanism',
      'plain',
      '--kafka-username',
      'alice',
      '--kafka-password',
      secrets[0]!,
      '--connect-url',
      `http://127.0.0.1:${connect}`,
      '--connect-username',
      'admin',
      '--connect-password',
      secrets[1]!,
      '--elasticsearch-url',
      `http://127.0.0.1:${search}`,
      '--elasticsearch-username',
      'elastic',
      '--elasticsearch-password',
      secrets[2]!,
      '--database-url',
      `postgres://outbox@127.0.0.1:${db}/outbox`,
      '--database-password',
      secrets[3]!,
      '--tracking-url',
      `http://127.0.0.1:${tracking}`,
      '--tracking-token',
      secrets[4]!,
      '--auditing-url',
      `http://127.0.0.1:${auditing}`,
      '--auditing-token',
      secrets[5]!,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr.match(/is stored as a literal/g)).toHaveLength(6);
    // A foreign stack's state that a context must never read: invalid JSON, and for good measure a valid one elsewhere.
    await mkdir(path.join(box.home, 'stacks', 'default'), { recursive: true });
    await writeFile(path.join(box.home, 'stacks', 'default', 'state.json'), '{ this is not json');
  });

  it('refuses up, down, restart, stop, exec and logs under --context and OUTBOXCTL_CONTEXT: exit 2, one sentence', async () => {
    const commands = [['up'], ['down'], ['restart', 'kafka'], ['stop', 'kafka'], ['exec', 'postgres', '--', 'true'], ['logs']];
    for (const argv of commands) {
      for (const [args, extra] of [
        [['--context', 'remote', ...argv], {}],
        [argv, { OUTBOXCTL_CONTEXT: 'remote' }],
      ] as const) {
        const r = await run(box, [...args], extra);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(oneSentence(r.stderr)).toMatch(
          new RegExp(`^error: \`outboxctl ${argv[0]}\` .* context "remote" is a remote environment, where outboxctl starts and stops nothing\\.$`),
        );
      }
    }
    const json = await run(box, ['--context', 'remote', 'down', '--json']);
    expect(JSON.parse(json.stdout).error.code).toBe('USAGE');
  });

  it("reads no stack state: topic list and status name the context's address, not the state's", async () => {
    const local = await run(box, ['topic', 'list']);
    // Proof that the state is there and broken: the local stack cannot be read.
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(/state/i);

    const topics = await run(box, ['--context', 'remote', 'topic', 'list'], { KAFKA_PW: 'unused' });
    expect(topics.code).toBe(1);
    expect(oneSentence(topics.stderr)).toBe(`error: Cannot reach Kafka at 127.0.0.1:${kafkaPort}: connection refused.`);

    const status = await run(box, ['status', '--json'], { OUTBOXCTL_CONTEXT: 'remote' });
    expect(status.code, status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout);
    expect(doc.context).toBe('remote');
    expect(doc.endpoints.map((e: { name: string }) => e.name)).toEqual(['kafka', 'connect', 'elasticsearch', 'database', 'tracking', 'auditing']);
    expect(doc.endpoints.every((e: { reachable: boolean }) => !e.reachable)).toBe(true);
    expect(doc.endpoints[0]).toMatchObject({ address: `127.0.0.1:${kafkaPort}`, auth: 'SASL_PLAINTEXT (PLAIN as alice)' });
    expect(JSON.stringify(doc)).not.toContain(String(statePort));
    expect((await run(box, ['status', '--check'], { OUTBOXCTL_CONTEXT: 'remote' })).code).toBe(1);

    // A foreign but valid state: its Kafka is not where a context's command goes.
    await writeFile(
      path.join(box.home, 'stacks', 'default', 'state.json'),
      JSON.stringify({
        schemaVersion: 3,
        stack: 'default',
        createdAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:00Z',
        services: {},
        endpoints: { kafka: `127.0.0.1:${statePort}` },
        secrets: {},
      }),
    );
    const viaState = await run(box, ['topic', 'list']);
    expect(viaState.stderr).not.toContain(String(kafkaPort));
    const viaContext = await run(box, ['topic', 'list', '--context', 'remote']);
    expect(viaContext.stderr).toContain(`127.0.0.1:${kafkaPort}`);
    expect(viaContext.stderr).not.toContain(String(statePort));
    await writeFile(path.join(box.home, 'stacks', 'default', 'state.json'), '{ this is not json');
  });

  it('an unknown context is one sentence listing the known ones, from flag, environment or file', async () => {
    const flag = await run(box, ['--context', 'prod', 'topic', 'list']);
    expect(flag.code).toBe(2);
    expect(oneSentence(flag.stderr)).toBe('error: Context "prod" (from --context) does not exist: the contexts are remote.');
    const env = await run(box, ['status'], { OUTBOXCTL_CONTEXT: 'prod' });
    expect(oneSentence(env.stderr)).toBe('error: Context "prod" (from OUTBOXCTL_CONTEXT) does not exist: the contexts are remote.');
  });

  it('never prints a secret, in results or errors', async () => {
    const outputs: string[] = [];
    for (const argv of [
      ['context', 'show', 'remote'],
      ['context', 'show', 'remote', '--json'],
      ['context', 'list'],
      ['status'],
      ['status', '--json'],
      ['topic', 'list'],
      ['group', 'list', '--json'],
      ['connectors', 'list'],
      ['db', 'info'],
      ['db', 'info', '--json'],
      ['parcel', 'list'],
      ['audit', 'events', '--json'],
      ['verify', '--json', '--settle', '0s'],
      ['parcel', 'list', '--verbose'],
      ['context', 'create', 'remote', '--connect-url', 'http://c', '--connect-username', 'u', '--connect-password', secrets[1]!],
      [
        'context',
        'create',
        'x',
        '--bootstrap-server',
        'k:1',
        '--kafka-sasl-mechanism',
        'plain',
        '--kafka-username',
        'u',
        '--kafka-password',
        `\${file:/x:${secrets[0]}}`,
      ],
    ]) {
      const r = await run(box, ['--context', 'remote', ...argv]);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).not.toBe(-1);
      // The command line itself holds secrets: only what outboxctl printed is checked.
      outputs.push(`$ ${argv[0]} ${argv[1]}\n${r.stdout}\n${r.stderr}`);
    }
    const all = outputs.join('\n');
    for (const secret of secrets) expect(all, all).not.toContain(secret);
    // And the commands did reach for the context's endpoints.
    expect(all).toContain('Cannot reach Kafka Connect');
    expect(all).toContain('PostgreSQL');
    expect(all).toMatch(/elasticsearch: The search engine at http:\/\/127\.0\.0\.1:\d+ did not answer/);
    expect(all).not.toContain('Unexpected error');
  });

  it('a reference that cannot be read fails only where it is used', async () => {
    const refs = await sandbox();
    const port = await closedPort();
    const created = await run(refs, [
      'context',
      'create',
      'refs',
      '--bootstrap-server',
      `127.0.0.1:${port}`,
      '--auditing-url',
      `http://127.0.0.1:${port}`,
      '--auditing-token',
      'env:AUDIT_TOKEN_UNSET',
      '--use',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toBe('');
    const topics = await run(refs, ['topic', 'list']);
    expect(oneSentence(topics.stderr)).toBe(`error: Cannot reach Kafka at 127.0.0.1:${port}: connection refused.`);
    const audit = await run(refs, ['audit', 'events']);
    expect(audit.code).toBe(1);
    expect(oneSentence(audit.stderr)).toBe('error: Context "refs": auditing.token refers to env:AUDIT_TOKEN_UNSET, which is not set.');
    const connectors = await run(refs, ['connectors', 'list']);
    expect(connectors.code).toBe(2);
    expect(oneSentence(connectors.stderr)).toMatch(
      /^error: Context "refs" names no connect endpoint \(connect\.url\), and neither --connect-url nor KAFKA_CONNECT_URL gives one\.$/,
    );
  });

  it("serve sink on a context without an elasticsearch endpoint: exit 2, one sentence (never the connector file's URL)", async () => {
    const box = await sandbox();
    const port = await closedPort();
    const created = await run(box, ['context', 'create', 'kafka-only', '--bootstrap-server', `127.0.0.1:${port}`]);
    expect(created.code, created.stderr).toBe(0);
    // ELASTICSEARCH_URL would name one: left out, as is the connector file's connection.url (rendered without the context).
    const r = await run(box, ['--context', 'kafka-only', 'serve', 'sink', '--port', '0'], { ELASTICSEARCH_URL: undefined });
    expect(r.code, r.stderr).toBe(2);
    expect(oneSentence(r.stderr)).toBe(
      'error: Context "kafka-only" names no elasticsearch endpoint (elasticsearch.url), and neither --elasticsearch-url nor ELASTICSEARCH_URL gives one.',
    );
  });
});

describe('status and serve on a context, against real servers', () => {
  it('serve tracking takes the context database; status reports it reachable and an unreachable auditing URL in one sentence', async () => {
    const box = await sandbox();
    const databaseUrl = new URL(await freshDatabase('ctx'));
    const password = decodeURIComponent(databaseUrl.password);
    const withoutPassword = new URL(databaseUrl);
    withoutPassword.password = '';
    await writeFile(path.join(box.env.HOME!, 'pgpass'), `${password}\n`);
    const auditingPort = await closedPort();
    const create = (url: string) =>
      run(box, [
        'context',
        'create',
        'real',
        '--force',
        '--database-url',
        withoutPassword.toString(),
        '--database-password',
        `file:${path.join(box.env.HOME!, 'pgpass')}`,
        '--tracking-url',
        url,
        '--tracking-token',
        'env:TRACKING_TOKEN',
        '--auditing-url',
        `http://127.0.0.1:${auditingPort}`,
      ]);
    expect((await create('http://127.0.0.1:1')).code).toBe(0);

    const token = 'ctx-token-4f1e';
    const serve = execa(BIN, ['--context', 'real', 'serve', 'tracking', '--port', '0', '--token', token], {
      env: { ...box.env, NO_COLOR: '1' },
      cwd: ROOT,
      reject: false,
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        serve.stdout!.on('data', (chunk: Buffer) => {
          const match = /http:\/\/[\d.]+:\d+/.exec(chunk.toString());
          if (match) resolve(match[0]);
        });
        void serve.then((r) => reject(new Error(`serve exited: ${r.stderr}`)));
      });
      expect((await create(url)).code).toBe(0);

      const status = await run(box, ['status', '--context', 'real', '--json'], { TRACKING_TOKEN: token });
      expect(status.code, status.stderr).toBe(0);
      const doc = JSON.parse(status.stdout) as {
        endpoints: { name: string; reachable: boolean; version: string | null; auth: string; error: { message: string } | null }[];
      };
      const byName = Object.fromEntries(doc.endpoints.map((e) => [e.name, e]));
      expect(byName.database).toMatchObject({ reachable: true, auth: `password (file:${path.join(box.env.HOME!, 'pgpass')})` });
      expect(byName.database!.version).toMatch(/^PostgreSQL \d+/);
      expect(byName.tracking).toMatchObject({ reachable: true, auth: 'a bearer token', error: null });
      expect(byName.auditing!.reachable).toBe(false);
      expect(byName.auditing!.error!.message).toBe(`Cannot reach the auditing server at http://127.0.0.1:${auditingPort}: connection refused.`);

      const table = await run(box, ['status', '--context', 'real'], { TRACKING_TOKEN: token });
      expect(table.stdout).toMatch(/^tracking\s+reachable\s+http:\/\/127\.0\.0\.1:\d+\s+a bearer token/m);
      expect(table.stdout).toContain(`auditing: Cannot reach the auditing server at http://127.0.0.1:${auditingPort}: connection refused.`);

      // The token comes from the context: a wrong one is a failure that status reports, and parcel commands use the right one.
      const wrong = JSON.parse((await run(box, ['status', '--context', 'real', '--json'], { TRACKING_TOKEN: 'wrong' })).stdout) as typeof doc;
      expect(wrong.endpoints.find((e) => e.name === 'tracking')!.reachable).toBe(false);
      const created = await run(box, ['parcel', 'create', '--contents', 'via context', '--context', 'real'], { TRACKING_TOKEN: token });
      expect(created.code, created.stderr).toBe(0);
      // A server started for a context does not record itself in a stack's state.
      await expect(stat(path.join(box.home, 'stacks', 'default', 'state.json'))).rejects.toThrow();
    } finally {
      serve.kill('SIGINT');
      await serve;
    }
  });
});
