import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPaths } from '../../src/stack/paths.js';
import { KAFKA_TOOLS, kafkaToolsDir } from '../../src/stack/runtimes/native/kafka-tools.js';
import { BIN, ROOT } from '../helpers/cli.js';

/** `outboxctl exec kafka -- kafka-*.sh` natively: the generated wrappers over the Maven-resolved jars, on the stack's real broker. */
let home: string;
const outboxctl = (args: string[], input?: string) => execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1' }, reject: false, cwd: ROOT, input });

/** Loads classes without running them: every main class of the table must be on the wrappers' classpath. */
const CHECK = `public class CheckMains { public static void main(String[] a) throws Exception {
  for (String c : a) Class.forName(c, false, CheckMains.class.getClassLoader()); } }`;

describe('exec kafka natively', () => {
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-exec-kafka-'));
    const r = await outboxctl(['up', '--services', 'kafka']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await outboxctl(['topic', 'create', 'parcel.outbox'])).exitCode).toBe(0);
  });
  afterAll(async () => {
    await outboxctl(['down', '--volumes']);
    await rm(home, { recursive: true, force: true });
  });

  it('kafka-topics.sh --list lists parcel.outbox: the stack bootstrap server is added', async () => {
    const listed = await outboxctl(['exec', 'kafka', '--', 'kafka-topics.sh', '--list']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toBe('parcel.outbox');
  });

  it('writes a wrapper per tool whose main class is on its classpath', async () => {
    const bin = kafkaToolsDir(stackPaths(home, 'default'));
    const script = await readFile(path.join(bin, 'kafka-topics.sh'), 'utf8');
    const classpath = /-cp '([^']+)'/.exec(script)![1]!;
    const source = path.join(home, 'CheckMains.java');
    await writeFile(source, CHECK);
    const mains = KAFKA_TOOLS.flatMap((t) => (t.mainClass ? [t.mainClass] : []));
    const check = await execa('java', ['-cp', classpath, source, ...mains], { reject: false });
    expect(check.exitCode, check.stderr).toBe(0);
    for (const tool of KAFKA_TOOLS) expect((await readFile(path.join(bin, tool.script), 'utf8')).startsWith('#!/bin/sh\n')).toBe(true);
  });
});
