import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextFromFlags } from '../../src/contexts/from-flags.js';
import { configFile } from '../../src/contexts/paths.js';
import { maskSecret, parseSecretRef } from '../../src/contexts/secret.js';
import { requestedContext, selectContext } from '../../src/contexts/select.js';
import { edit, loadConfig, parseConfig, updateConfig } from '../../src/contexts/store.js';
import { maskedContext } from '../../src/contexts/targets.js';
import { CliError } from '../../src/lib/errors.js';

const thrown = (fn: () => unknown): CliError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('did not throw');
};

describe('secret references', () => {
  it('env:VAR and file:PATH are references; anything else is a literal', () => {
    expect(parseSecretRef('env:KAFKA_PASSWORD', '--x')).toEqual({ kind: 'env', name: 'KAFKA_PASSWORD' });
    expect(parseSecretRef('file:/run/secrets/pw', '--x')).toEqual({ kind: 'file', path: '/run/secrets/pw' });
    expect(parseSecretRef('file:relative/pw', '--x')).toEqual({ kind: 'file', path: 'relative/pw' });
    expect(parseSecretRef('hunter2', '--x')).toEqual({ kind: 'literal' });
    expect(parseSecretRef('ENV:X', '--x')).toEqual({ kind: 'literal' });
    expect(parseSecretRef('$file:/x', '--x')).toEqual({ kind: 'literal' });
  });

  it("Kafka's ${file:…} and ${env:…} placeholders are refused, not taken for literals or references", () => {
    for (const placeholder of ['${file:/opt/secrets.properties:password}', '${env:KAFKA_PASSWORD}', '${directory:/run/secrets:pw}']) {
      const error = thrown(() => parseSecretRef(placeholder, '--kafka-password'));
      expect(error.exitCode).toBe(2);
      expect(error.message).toMatch(/^--kafka-password is a Kafka config provider placeholder/);
      expect(error.message).not.toContain(placeholder);
    }
  });

  it('malformed references name the flag and never echo a literal', () => {
    expect(thrown(() => parseSecretRef('env:1BAD', '--connect-password')).message).toContain('--connect-password is env:1BAD');
    expect(thrown(() => parseSecretRef('file:', '--connect-password')).message).toBe('--connect-password is file: without a path.');
    expect(thrown(() => parseSecretRef('', '--connect-password')).message).toBe('--connect-password is empty.');
  });

  it('masking: a reference shows as itself, a literal as ****', () => {
    expect(maskSecret('env:KAFKA_PASSWORD')).toBe('env:KAFKA_PASSWORD');
    expect(maskSecret('file:/run/secrets/pw')).toBe('file:/run/secrets/pw');
    expect(maskSecret('hunter2')).toBe('****');
    expect(maskSecret('${file:/x:y}')).toBe('****');
    expect(
      maskedContext({
        kafka: { 'bootstrap-servers': 'k:1', sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } },
        database: { url: 'postgres://u:pw-in-url@h/db' },
        tracking: { url: 'http://t', token: 'env:T' },
      }),
    ).toEqual({
      kafka: { 'bootstrap-servers': 'k:1', sasl: { mechanism: 'plain', username: 'u', password: '****' } },
      database: { url: 'postgres://u:****@h/db' },
      tracking: { url: 'http://t', token: 'env:T' },
    });
  });
});

describe('a hand-edited config file', () => {
  const good = [
    'version: 1',
    'current-context: staging',
    'contexts:',
    '  staging:',
    '    kafka:',
    '      bootstrap-servers: k1:9093,k2:9093',
    '      tls: true',
    '      sasl:',
    '        mechanism: scram-sha-256',
    '        username: alice',
    '        password: literal-pw',
    '',
  ];
  const withLine = (n: number, text: string) => good.map((l, i) => (i === n - 1 ? text : l)).join('\n');

  it('parses a valid file', () => {
    const config = parseConfig(good.join('\n'), '/c.yaml');
    expect(config.current).toBe('staging');
    expect(config.contexts.staging?.kafka?.sasl?.mechanism).toBe('scram-sha-256');
  });

  it('a bad value is one sentence naming the file, the line and the field', () => {
    const error = thrown(() => parseConfig(withLine(9, '        mechanism: gssapi'), '/c.yaml'));
    expect(error.message).toBe('/c.yaml line 9: contexts.staging.kafka.sasl.mechanism is not one of plain, scram-sha-256, scram-sha-512.');
  });

  it('a misspelt key is an error on its line', () => {
    const error = thrown(() => parseConfig(withLine(11, '        pasword: literal-pw'), '/c.yaml'));
    expect(error.message).toBe('/c.yaml line 11: contexts.staging.kafka.sasl.pasword is not a known key.');
  });

  it('a missing required field names the mapping that lacks it', () => {
    const error = thrown(() => parseConfig(good.filter((_, i) => i !== 5).join('\n'), '/c.yaml'));
    expect(error.message).toBe('/c.yaml line 5: contexts.staging.kafka.bootstrap-servers is missing.');
  });

  it('bad addresses, names and versions', () => {
    expect(thrown(() => parseConfig(withLine(6, '      bootstrap-servers: k1'), '/c.yaml')).message).toBe(
      '/c.yaml line 6: contexts.staging.kafka.bootstrap-servers is not a list of host:port.',
    );
    expect(thrown(() => parseConfig(withLine(4, '  local:').replace('current-context: staging', 'current-context: local'), '/c.yaml')).message).toMatch(
      /^\/c\.yaml line 4: contexts\.local is not a context name/,
    );
    expect(thrown(() => parseConfig(withLine(1, 'version: 2'), '/c.yaml')).message).toMatch(/^\/c\.yaml line 1: version is not 1/);
  });

  it('broken YAML names the line and never shows its text (it may hold a secret)', () => {
    const error = thrown(() => parseConfig(withLine(11, '        password: "literal-pw'), '/c.yaml'));
    expect(error.message).toMatch(/^\/c\.yaml line \d+: it is not valid YAML/);
    expect(error.message).not.toContain('literal-pw');
    const duplicate = thrown(() => parseConfig(`${good.join('\n')}\ncontexts: {}\n`, '/c.yaml'));
    expect(duplicate.message).toBe('/c.yaml line 13: a key appears twice in one mapping.');
  });
});

describe('context create flags', () => {
  it('builds the stored context, makes paths absolute, implies TLS and warns about literals', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-flags-'));
    await writeFile(path.join(dir, 'ca.pem'), 'pem');
    const { context, warnings } = contextFromFlags(
      {
        bootstrapServer: 'k:9093',
        kafkaCa: 'ca.pem',
        kafkaNoVerifyHostname: true,
        kafkaSaslMechanism: 'plain',
        kafkaUsername: 'u',
        kafkaPassword: 'hunter2',
        connectUrl: 'http://c:8083',
        connectUsername: 'a',
        connectPassword: 'file:pw',
        auditingUrl: 'http://a:5000',
        auditingToken: 'env:AUD',
      },
      dir,
    );
    expect(context).toEqual({
      kafka: {
        'bootstrap-servers': 'k:9093',
        tls: { 'ca-file': path.join(dir, 'ca.pem'), 'verify-hostname': false },
        sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' },
      },
      connect: { url: 'http://c:8083', username: 'a', password: `file:${path.join(dir, 'pw')}` },
      auditing: { url: 'http://a:5000', token: 'env:AUD' },
    });
    expect(warnings).toEqual(['--kafka-password is stored as a literal in the config file; prefer env:VAR or file:PATH.']);
    expect(contextFromFlags({ bootstrapServer: 'k:9093', kafkaTls: true }, dir).context.kafka?.tls).toBe(true);
  });

  it('`~/` is the home directory, as the loader reads it: file: secrets and PEM files alike', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-home-'));
    await writeFile(path.join(home, 'ca.pem'), 'pem');
    const { context } = contextFromFlags(
      {
        bootstrapServer: 'k:9093',
        kafkaCa: '~/ca.pem',
        kafkaSaslMechanism: 'plain',
        kafkaUsername: 'u',
        kafkaPassword: 'file:~/secrets/kafka',
        connectUrl: 'http://c:8083',
        connectUsername: 'a',
        connectPassword: 'file:relative/pw',
      },
      '/work/dir',
      { HOME: home },
    );
    expect(context.kafka?.tls).toEqual({ 'ca-file': path.join(home, 'ca.pem') });
    expect(context.kafka?.sasl?.password).toBe(`file:${path.join(home, 'secrets', 'kafka')}`);
    expect(context.connect?.password).toBe('file:/work/dir/relative/pw');
  });

  it('a password in a URL, in its userinfo or its query, is warned about as a literal', () => {
    const warned = (url: string) => contextFromFlags({ databaseUrl: url }, '/').warnings;
    const warning = '--database-url carries a password, stored as a literal in the config file; prefer --database-password env:VAR or file:PATH.';
    expect(warned('postgres://u:pw@h/db')).toEqual([warning]);
    expect(warned('postgres://u@h/db?sslmode=require&password=pw')).toEqual([warning]);
    expect(warned('postgres://u@h/db?sslpassword=keypw')).toEqual([warning]);
    expect(warned('postgres://u@h/db?sslmode=require')).toEqual([]);
    expect(contextFromFlags({ elasticsearchUrl: 'https://e:9200/?password=pw' }, '/').warnings).toEqual([
      '--elasticsearch-url carries a password, stored as a literal in the config file; prefer --elasticsearch-password env:VAR or file:PATH.',
    ]);
  });

  it('each problem is one sentence naming the flag', () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { bootstrapServer: 'k:9093', kafkaSaslMechanism: 'gssapi', kafkaUsername: 'u', kafkaPassword: 'env:P' },
        '--kafka-sasl-mechanism "gssapi" is not one of',
      ],
      [{ bootstrapServer: 'k:9093', kafkaSaslMechanism: 'plain', kafkaUsername: 'u' }, '--kafka-sasl-mechanism needs --kafka-username and --kafka-password.'],
      [{ bootstrapServer: 'k:9093', kafkaUsername: 'u' }, '--kafka-username needs --kafka-sasl-mechanism.'],
      [{ bootstrapServer: 'k:9093', kafkaCa: '/nonexistent/ca.pem' }, '--kafka-ca names /nonexistent/ca.pem, which does not exist.'],
      [{ kafkaTls: true }, '--kafka-tls needs --bootstrap-server.'],
      [{ bootstrapServer: 'not-a-list' }, '--bootstrap-server is not a list of host:port.'],
      [{ connectUrl: 'ftp://c' }, '--connect-url is not an http:// or https:// URL.'],
      [{ connectUrl: 'http://c', connectUsername: 'a' }, '--connect-username needs --connect-password.'],
      [{ elasticsearchUrl: 'http://e', elasticsearchApiKey: 'env:K', elasticsearchUsername: 'u', elasticsearchPassword: 'env:P' }, 'exclude each other'],
      [{ databaseUrl: 'mysql://h/db' }, '--database-url is not a postgres:// or postgresql:// URL.'],
      [{ trackingToken: 'env:T' }, '--tracking-token needs --tracking-url.'],
      [{ connectUrl: 'http://c', connectUsername: 'a', connectPassword: '${file:/x:pw}' }, '--connect-password is a Kafka config provider placeholder'],
      [{}, 'A context needs at least one endpoint.'],
    ];
    for (const [flags, message] of cases) {
      const error = thrown(() => contextFromFlags(flags, '/'));
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain(message);
    }
  });
});

describe('selection', () => {
  const known = ['dev', 'staging'];
  it('--context > OUTBOXCTL_CONTEXT > current-context; local is none', () => {
    expect(selectContext(requestedContext('dev', { OUTBOXCTL_CONTEXT: 'staging' }), 'staging', known, 'f')).toBe('dev');
    expect(selectContext(requestedContext(undefined, { OUTBOXCTL_CONTEXT: 'staging' }), 'dev', known, 'f')).toBe('staging');
    expect(selectContext(requestedContext(undefined, {}), 'dev', known, 'f')).toBe('dev');
    expect(selectContext(requestedContext('local', { OUTBOXCTL_CONTEXT: 'staging' }), 'dev', known, 'f')).toBeUndefined();
    expect(selectContext(requestedContext(undefined, { OUTBOXCTL_CONTEXT: 'local' }), 'dev', known, 'f')).toBeUndefined();
    expect(selectContext(requestedContext(undefined, {}), undefined, known, 'f')).toBeUndefined();
  });

  it('an unknown name is one usage error listing the known ones', () => {
    const error = thrown(() => selectContext(requestedContext(undefined, { OUTBOXCTL_CONTEXT: 'prod' }), undefined, known, 'f'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('Context "prod" (from OUTBOXCTL_CONTEXT) does not exist: the contexts are dev, staging.');
  });
});

describe('the store', () => {
  it('$XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configFile({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/outboxctl/config.yaml');
    expect(configFile({ HOME: '/h' })).toBe('/h/.config/outboxctl/config.yaml');
    expect(configFile({ XDG_CONFIG_HOME: 'relative', HOME: '/h' })).toBe('/h/.config/outboxctl/config.yaml');
  });

  it('writes 0600 in a 0700 directory and keeps hand-written comments', async () => {
    const env = { XDG_CONFIG_HOME: await mkdtemp(path.join(os.tmpdir(), 'outboxctl-store-')) };
    await updateConfig(env, (c) => edit.setContext(c, 'dev', { kafka: { 'bootstrap-servers': 'k:1' } }));
    const file = configFile(env);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    await writeFile(file, `# my staging notes\n${await readFile(file, 'utf8')}`);
    await updateConfig(env, (c) => {
      edit.setContext(c, 'staging', { tracking: { url: 'http://t' } });
      edit.setCurrent(c, 'staging');
    });
    expect(await readFile(file, 'utf8')).toContain('# my staging notes');
    const config = await loadConfig(env);
    expect(Object.keys(config.contexts).sort()).toEqual(['dev', 'staging']);
    expect(config.current).toBe('staging');
    await updateConfig(env, (c) => {
      edit.deleteContext(c, 'staging');
      edit.setCurrent(c, undefined);
    });
    expect((await loadConfig(env)).current).toBeUndefined();
  });

  it('two writers at once lose neither context', async () => {
    const env = { XDG_CONFIG_HOME: await mkdtemp(path.join(os.tmpdir(), 'outboxctl-store-')) };
    await Promise.all(['a', 'b', 'c', 'd'].map((n) => updateConfig(env, (c) => edit.setContext(c, n, { tracking: { url: `http://${n}` } }))));
    expect(Object.keys((await loadConfig(env)).contexts).sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});
