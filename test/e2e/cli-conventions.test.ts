import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { cli, spawnCli } from '../helpers/cli.js';

describe('CLI conventions', () => {
  it('--help lists every command with a one-line description', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    const program = buildProgram(
      { stdin: Readable.from([]), stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '.' },
      { exitCode: 0 },
    );
    const leaves = program.commands.flatMap((group) =>
      group.commands.length ? group.commands.map((c) => [`${group.name()} ${c.name()}`, c.description()]) : [[group.name(), group.description()]],
    );
    expect(leaves.length).toBeGreaterThanOrEqual(6);
    const flat = stdout.replace(/\s+/g, ' ');
    for (const [name, description] of leaves) {
      expect(description, `${name} has a description`).toMatch(/\w/);
      expect(flat).toContain(name!);
      expect(flat).toContain(description!.split(' ').slice(0, 3).join(' '));
    }
  });

  it('--version prints its own version and the pinned components', async () => {
    const { code, stdout } = await spawnCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^outboxctl \d+\.\d+\.\d+/);
    expect(stdout).toMatch(/postgres\s+17\./);
  });

  it('--version reports the Node.js it runs on', async () => {
    const { code, stdout } = await spawnCli(['--version']);
    expect(code).toBe(0);
    const [, version, major] = /^\s*node\s+(v(\d+)\.\d+\.\d+\S*)$/m.exec(stdout) ?? [];
    expect(version, stdout).toBeDefined();
    // CI can put another Node first on PATH than the one running vitest, and then says which major it expects.
    const expected = process.env.OUTBOXCTL_EXPECT_NODE_MAJOR;
    if (expected) expect(major).toBe(expected);
    else expect(version).toBe(process.version);
  });

  it('an unknown command exits 2 with a suggestion', async () => {
    const { code, stderr, stdout } = await spawnCli(['db', 'migrat']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("unknown command 'migrat'");
    expect(stderr).toContain('Did you mean migrate?');
  });

  it('an unknown flag exits 2 with a suggestion, as JSON under --json', async () => {
    const text = await spawnCli(['db', 'info', '--jsn']);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain('Did you mean --json?');
    const json = await spawnCli(['db', 'info', '--jsn', '--json']);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout) as { error: { code: string; message: string; hint: string } };
    expect(doc.error).toMatchObject({ code: 'USAGE', message: "unknown option '--jsn'." });
    expect(doc.error.hint).toContain('--json');
  });

  it('a malformed --database-url is one sentence, exit 1, no stack', async () => {
    const { code, stderr, stdout } = await spawnCli(['db', 'info', '--database-url', 'not a url']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe('error: The database URL "not a url" is not a valid URL.');
    expect(stderr).toContain('hint:');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('an unreachable database names host and port, exit 1, JSON error under --json', async () => {
    const { code, stderr } = await spawnCli(['db', 'migrate', '--database-url', 'postgres://u:secret@127.0.0.1:1/db']);
    expect(code).toBe(1);
    expect(stderr.split('\n')[0]).toBe('error: Cannot connect to PostgreSQL at 127.0.0.1:1: connection refused.');
    expect(stderr).not.toContain('secret');
    const json = await spawnCli(['db', 'info', '--json'], { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'DB_UNREACHABLE', message: expect.stringContaining('127.0.0.1:1'), hint: expect.any(String) } });
  });

  it('--verbose adds the stack to an error', async () => {
    const { code, stderr } = await spawnCli(['db', 'info', '--verbose', '--database-url', 'postgres://u@127.0.0.1:1/db']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/\n\s+at /);
  });

  it('colour only on a TTY and never with NO_COLOR', async () => {
    const { stderr } = await cli(['db', 'migrat']);
    expect(stderr).not.toContain('\u001b[');
  });
});
