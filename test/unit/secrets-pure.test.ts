import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeDocument } from '../../src/compose/export.js';
import { loadConnectorFiles } from '../../src/connectors/files.js';
import { parseConnectorFile } from '../../src/connectors/spec.js';
import { connectorVariables } from '../../src/connectors/variables.js';
import { renderTemplate } from '../../src/lib/template.js';
import { connectComponent } from '../../src/stack/components/connect.js';
import { debeziumSecretContent, propertiesValue, writeSecretFile } from '../../src/stack/components/secrets.js';
import { trackingDatabaseUrl } from '../../src/stack/components/tracking.js';
import { stackPaths } from '../../src/stack/paths.js';
import { emptyState, type StackState } from '../../src/stack/state.js';
import { ROOT } from '../helpers/cli.js';

describe('${VAR} rendering leaves Kafka config-provider references alone', () => {
  const vars = { STACK: 'default', DIR: '/s' };

  it('${file:…}, ${dir:…}, ${env:…} and any ${provider:…} with a colon stay exactly as written', () => {
    for (const text of [
      '${file:/run/secrets/debezium.properties:password}',
      '${dir:/run/secrets:debezium-password}',
      '${env:DEBEZIUM_PASSWORD}',
      '${FILE:/x/y.properties:KEY}',
      '${vault:secret/data/db:password}',
      'jdbc:${file:/a:b}/x-${STACK}',
    ]) {
      expect(renderTemplate(text, vars, 't.json')).toBe(text.replace('${STACK}', 'default'));
    }
    // None of them asks for a variable: an empty set of variables renders them unchanged too.
    expect(renderTemplate('${file:/a/b.properties:password}', {}, 't.json')).toBe('${file:/a/b.properties:password}');
  });

  it('a ${VAR} inside a reference (its path) is filled; an unknown ${VAR} is still an error', () => {
    expect(renderTemplate('${file:${DIR}/debezium.properties:password}', vars)).toBe('${file:/s/debezium.properties:password}');
    expect(() => renderTemplate('${file:${NOPE}/x:password}', vars, 'c.json')).toThrow('c.json uses ${NOPE}, which has no value.');
  });

  it('a connector file keeps the reference in its config value', () => {
    const spec = parseConnectorFile(
      '{"name":"c","config":{"connector.class":"X","database.password":"${file:${DIR}/debezium.properties:password}","a":"${dir:/d:k}"}}',
      'c.json',
      vars,
    );
    expect(spec.config['database.password']).toBe('${file:/s/debezium.properties:password}');
    expect(spec.config.a).toBe('${dir:/d:k}');
  });
});

describe("the packaged source file names Connect's secret file, never the password", () => {
  const state = (runtime: 'native' | 'docker'): StackState => ({
    ...emptyState('s1'),
    services: { connect: { runtime, ports: { main: 8083 } } },
    endpoints: { database: 'postgres://postgres:pw@127.0.0.1:39405/outbox' },
    networkEndpoints: { database: 'postgres://postgres:pw@postgres:5432/outbox' },
    secrets: { debeziumPassword: 'dbz-secret' },
  });
  const source = path.join(ROOT, 'kafka-connectors', 'dbz-source-connector.json');
  const load = async (st: StackState, env: NodeJS.ProcessEnv) => (await loadConnectorFiles([source], ROOT, connectorVariables('s1', st, env, 'connect')))[0]!;

  it('natively: the stack directory on the host; in a container: /run/secrets', async () => {
    const home = '/tmp/outboxctl-home-x';
    const native = await load(state('native'), { OUTBOXCTL_HOME: home });
    expect(native.config['database.password']).toBe(`\${file:${path.join(stackPaths(home, 's1').dir, 'secrets')}/debezium.properties:password}`);
    const docker = await load(state('docker'), { OUTBOXCTL_HOME: home });
    expect(docker.config['database.password']).toBe('${file:/run/secrets/debezium.properties:password}');
    expect(docker.config['database.hostname']).toBe('postgres');
    for (const spec of [native, docker]) expect(JSON.stringify(spec)).not.toContain('dbz-secret');
  });

  it('${DEBEZIUM_PASSWORD} still works for files of ones own; the environment may name the directory', () => {
    const vars = connectorVariables('s1', state('native'), { CONNECT_SECRETS_DIR: '/etc/mine' });
    expect(vars.DEBEZIUM_PASSWORD).toBe('dbz-secret');
    expect(vars.CONNECT_SECRETS_DIR).toBe('/etc/mine');
    // Without a Connect of the stack, nobody knows where its worker keeps secrets: no value, so a file using it says so.
    expect(connectorVariables('s1', { ...state('native'), services: {} }, {}).CONNECT_SECRETS_DIR).toBeUndefined();
  });
});

describe('secret files', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('are written with exactly the mode asked for, in a 0700 directory; Properties escapes survive', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-secrets-'));
    dirs.push(dir);
    const previous = process.umask(0o077);
    try {
      const file = await writeSecretFile({ dir }, 'debezium.properties', debeziumSecretContent('a\\b'), 0o644);
      expect((await stat(file)).mode & 0o777).toBe(0o644);
      expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
      expect(await readFile(file, 'utf8')).toMatch(/^password=a\\\\b$/m);
      await writeSecretFile({ dir }, 'debezium.properties', debeziumSecretContent('x'), 0o600);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
    expect(propertiesValue(' lead\nx')).toBe('\\ lead\\nx');
  });

  it("Connect's container gets the file provider from CONNECT_* variables and the password only as a mounted file", async () => {
    const ctx = { stack: 's', ports: { main: 8083 }, hostPorts: { main: 8083 }, clientHost: '127.0.0.1', endpoints: { kafka: 'kafka:19092' }, env: {} };
    const secret = async () => 'pw-123';
    const env = await connectComponent.container!.env!({ ...ctx, secret });
    expect(env).toMatchObject({
      CONNECT_CONFIG_PROVIDERS: 'file',
      CONNECT_CONFIG_PROVIDERS_FILE_CLASS: 'org.apache.kafka.common.config.provider.FileConfigProvider',
      CONNECT_CONFIG_PROVIDERS_FILE_PARAM_ALLOWED_PATHS: '/run/secrets',
    });
    expect(JSON.stringify(env)).not.toContain('pw-123');
    const files = await connectComponent.container!.secretFiles!({ ...ctx, secret });
    expect(files).toEqual([
      { name: 'debezium.properties', target: '/run/secrets/debezium.properties', content: expect.stringContaining('\npassword=pw-123\n') },
    ]);
  });

  it('Compose reads the file from ./secrets beside it; the header says what it holds, without a value', async () => {
    const text = await composeDocument();
    expect(text).toMatch(/\n {4}secrets:\n {6}- debezium\.properties\n/);
    expect(text).toMatch(/\nsecrets:\n {2}debezium\.properties:\n {4}file: \.\/secrets\/debezium\.properties\n/);
    expect(text).toContain('#   ./secrets/debezium.properties  connect reads it at /run/secrets/debezium.properties: password=<DEBEZIUM_PASSWORD>');
    expect(text).toContain('CONNECT_CONFIG_PROVIDERS_FILE_PARAM_ALLOWED_PATHS: /run/secrets');
    expect(text).not.toMatch(/__OUTBOXCTL_SECRET/);
  });
});

describe("the tracking server's database URL", () => {
  it("is the owner's URL with the tracking role and its own password", () => {
    expect(trackingDatabaseUrl('postgres://postgres:owner-pw@127.0.0.1:41234/outbox', 'tr-pw_1')).toBe('postgres://tracking:tr-pw_1@127.0.0.1:41234/outbox');
  });
});

describe("the servers' token environment", () => {
  it("is the stack's token when on, and empty when off, so a token exported in the shell running up never turns it on", async () => {
    const { tokenEnv } = await import('../../src/stack/components/embedded.js');
    const ctxWith = (secrets: Record<string, string>) =>
      ({ state: async () => ({ ...emptyState('t'), secrets }) }) as unknown as Parameters<typeof tokenEnv>[0];
    expect(await tokenEnv(ctxWith({ token: 'abc' }))).toEqual({ OUTBOXCTL_TOKEN: 'abc' });
    expect(await tokenEnv(ctxWith({}))).toEqual({ OUTBOXCTL_TOKEN: '' });
  });
});
