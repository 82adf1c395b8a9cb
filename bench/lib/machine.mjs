// The machine a report was measured on: cores, memory, OS, Node, Java, tools and the pinned component versions.

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { execa } from 'execa';
import { root } from './proc.mjs';

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colours (mvn -v prints them)
const plain = (text) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** The first line of a tool's output (or the first matching `pick`), without colours. */
async function firstLine(file, args, from = 'stdout', pick = /./) {
  const r = await execa(file, args, { reject: false, stdin: 'ignore' });
  const lines = plain(r[from] || r.stdout || r.stderr || '')
    .trim()
    .split('\n');
  return (lines.find((l) => pick.test(l)) ?? lines[0] ?? '').trim() || 'not found';
}

export async function machine() {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(osRelease)?.[1] ?? os.type();
  const cpu = os.cpus();
  let versions = {};
  try {
    versions = (await import(`${root}/dist/versions.js`)).componentVersions();
  } catch {
    versions = { components: 'dist/versions.js not built' };
  }
  const commit = await firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = (await execa('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { reject: false })).stdout.trim()
    ? ' (with uncommitted changes)'
    : '';
  return {
    cores: `${cpu.length} × ${cpu[0]?.model?.trim() ?? 'unknown CPU'}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${pretty}, Linux ${os.release()}`,
    node: process.version,
    java: await firstLine('java', ['-version'], 'stderr'),
    maven: await firstLine('mvn', ['-v']),
    tools: [
      await firstLine('hyperfine', ['--version']),
      `kcat ${await firstLine('kcat', ['-V'], 'stdout', /Version/i)}`,
      await firstLine('pgbench', ['--version']),
    ].join('; '),
    ...Object.fromEntries(Object.entries(versions).map(([k, v]) => [k, v])),
    commit: `${commit}${dirty}`,
    'load average at the start': os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', '),
  };
}
