// Row 4: `topic tail -e --format raw` to /dev/null beside `kcat -C -e -f '%s\n'` on the same topic.

import { execa } from 'execa';
import { bin, hyperfine, log } from '../lib/proc.mjs';
import { ratio, summarize } from '../lib/stats.mjs';

const TOPIC = 'bench.tail';

/** Counts the newlines a command writes: a check, untimed, that a reader read every record. */
async function countLines(file, args, env) {
  const child = execa(file, args, { env, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', reject: false, buffer: { stdout: false, stderr: true } });
  let lines = 0;
  for await (const chunk of child.stdout) for (const byte of chunk) if (byte === 10) lines++;
  const r = await child;
  return r.exitCode === 0
    ? lines
    : `${lines} (exit ${r.exitCode}: ${String(r.stderr ?? '')
        .trim()
        .split('\n')
        .at(-1)})`;
}

export async function tail({ short, stack, endpoints }) {
  const records = short ? 100_000 : 1_000_000;
  const rounds = short ? 2 : 3;
  const created = await stack.run(['topic', 'create', TOPIC, '-p', '3']);
  if (created.exitCode !== 0) throw new Error(`topic create ${TOPIC} failed: ${created.stderr.trim()}`);
  // Today's data shape: ~150-byte JSON values with keys, lz4, written by kcat (independent of the reader under test).
  const lines = Array.from(
    { length: records },
    (_, i) => `parcel-${i % 5000}:{"eventId":"${i}","eventType":"ParcelCreated","payload":{"contents":"benchmark record ${i}","status":"registered"}}`,
  );
  log(`tail: producing ${records.toLocaleString('en-US')} records with kcat`);
  await execa('kcat', ['-P', '-b', endpoints.kafka, '-t', TOPIC, '-K:', '-z', 'lz4'], { input: `${lines.join('\n')}\n` });
  const ourArgs = ['topic', 'tail', TOPIC, '--from-beginning', '-e', '--format', 'raw'];
  const kcatArgs = ['-C', '-b', endpoints.kafka, '-t', TOPIC, '-e', '-q', '-f', '%s\\n'];
  const seen = {
    ours: await countLines(bin, ourArgs, stack.env),
    kcat: await countLines('kcat', ['-C', '-b', endpoints.kafka, '-t', TOPIC, '-e', '-q', '-f', '%s\n']),
  };
  const r = await hyperfine(
    [
      { name: 'ours', command: `${bin} ${ourArgs.join(' ')}` },
      { name: 'kcat', command: `kcat ${kcatArgs.map((a) => (a.includes('%') ? `'${a}'` : a)).join(' ')}` },
    ],
    { runs: 1, rounds, env: stack.env },
  );
  const perSecond = (x) => x.times.map((ms) => records / (ms / 1000));
  // CPU time per record, as a rate: records per CPU second (user + sys).
  const cpuRate = (x) => (x.cpu?.median ? { n: x.cpu.n, median: records / (x.cpu.median / 1000) } : null);
  const ours = summarize(perSecond(r.ours), { percentiles: false });
  const kcat = summarize(perSecond(r.kcat), { percentiles: false });
  const value = ratio(ours.median, kcat.median);
  const cpuRatio = ratio(cpuRate(r.ours)?.median, cpuRate(r.kcat)?.median);
  const errors = [];
  if (seen.ours !== records) errors.push(`outboxctl topic tail printed ${seen.ours} of ${records} records`);
  if (seen.kcat !== records) errors.push(`kcat printed ${seen.kcat} of ${records} records`);
  if (r.ours.failedRuns) errors.push(`outboxctl topic tail exited ${r.ours.exitCode}`);
  return {
    figure: `\`topic tail -e --format raw\` of ${records.toLocaleString('en-US')} records to /dev/null`,
    unit: 'records/s',
    stats: ours,
    cpu: cpuRate(r.ours),
    peer: { label: "`kcat -C -e -f '%s\\n'`", unit: 'records/s', stats: kcat, cpu: cpuRate(r.kcat) },
    ratio: { value, text: `${value?.toFixed(2) ?? '—'}× (CPU ${cpuRatio?.toFixed(2) ?? '—'}×)` },
    target: "≥ 1.0× kcat's records/s",
    met: value === null ? null : value >= 1,
    error: errors.length ? errors.join('; ') : null,
    notes: [
      `topic ${TOPIC}: 3 partitions, lz4, ~150-byte JSON values with keys, produced by kcat; ${rounds} rounds, each reader once per round (hyperfine -N --runs 1, output to /dev/null), alternating.`,
      `wall ${r.ours.wall.median ? (r.ours.wall.median / 1000).toFixed(2) : '—'} s vs kcat ${r.kcat.wall.median ? (r.kcat.wall.median / 1000).toFixed(2) : '—'} s (medians); the CPU column is records per CPU second (user + sys); every record counted once in an untimed run of each reader (${seen.ours} and ${seen.kcat}).`,
    ],
  };
}
