// Rows 1, 2, 3 and 10: whole commands through hyperfine, wall and CPU time beside their peers'.

import { bin, hyperfine } from '../lib/proc.mjs';
import { ratio } from '../lib/stats.mjs';

const NODE = { name: 'node -e 0', command: 'node -e 0' };
const runsOf = (short) => ({ runs: short ? 2 : 5, rounds: 2, warmup: short ? 1 : 2 });

function failure(name, r) {
  return r.failedRuns > 0 ? `${name} exited ${r.exitCode} in ${r.failedRuns} run(s)` : null;
}

function peerOf(label, r) {
  return { label, unit: 'ms', stats: r.wall, cpu: r.cpu };
}

/** 1: `outboxctl --help` in a new process each run (the page cache is warm: caches are not dropped on a shared machine). */
export async function help({ short, stack }) {
  const { runs, rounds, warmup } = runsOf(short);
  const r = await hyperfine([{ name: 'ours', command: `${bin} --help` }, NODE], { runs: runs * 2, rounds, warmup, env: stack?.env });
  const cpuRatio = ratio(r.ours.cpu?.median, r['node -e 0'].cpu?.median);
  const wallRatio = ratio(r.ours.wall.median, r['node -e 0'].wall.median);
  return {
    figure: '`outboxctl --help`, cold (a new process per run)',
    unit: 'ms',
    stats: r.ours.wall,
    cpu: r.ours.cpu,
    peer: peerOf('`node -e 0`', r['node -e 0']),
    ratio: { value: cpuRatio, text: `${cpuRatio?.toFixed(2) ?? '—'}× CPU (${wallRatio?.toFixed(2) ?? '—'}× wall)` },
    target: '≤ 1.3× `node -e 0` in CPU time',
    met: cpuRatio === null ? null : cpuRatio <= 1.3,
    error: failure('outboxctl --help', r.ours),
    notes: [
      `hyperfine -N, ${rounds} rounds of ${runs * 2} runs each (the two commands alternate by round), ${warmup} warm-up run(s); CPU = user + sys, hyperfine's mean over the runs; "cold" = a new Node process each run, not a dropped page cache.`,
    ],
  };
}

/** 2: `outboxctl status` of the running stack (7 services). */
export async function status({ short, stack }) {
  const { runs, rounds, warmup } = runsOf(short);
  const r = await hyperfine([{ name: 'ours', command: `${bin} status` }, NODE], { runs, rounds, warmup, env: stack.env });
  const wallRatio = ratio(r.ours.wall.median, r['node -e 0'].wall.median);
  const cpuRatio = ratio(r.ours.cpu?.median, r['node -e 0'].cpu?.median);
  return {
    figure: '`outboxctl status`, 7 services running',
    unit: 'ms',
    stats: r.ours.wall,
    cpu: r.ours.cpu,
    peer: peerOf('`node -e 0`', r['node -e 0']),
    ratio: { value: wallRatio, text: `${wallRatio?.toFixed(2) ?? '—'}× wall (${cpuRatio?.toFixed(2) ?? '—'}× CPU)` },
    target: '≤ 250 ms',
    met: r.ours.wall.median === null ? null : r.ours.wall.median <= 250,
    error: failure('outboxctl status', r.ours),
    notes: [`hyperfine -N, ${rounds} rounds of ${runs} runs, ${warmup} warm-up; the stack's seven services were ready (status probes each of them).`],
  };
}

/** 3: `outboxctl topic list` beside `kcat -L` (librdkafka, the Kafka peer) and `node -e 0`. */
export async function topicList({ short, stack, endpoints }) {
  const { runs, rounds, warmup } = runsOf(short);
  const r = await hyperfine([{ name: 'ours', command: `${bin} topic list` }, { name: 'kcat', command: `kcat -L -b ${endpoints.kafka}` }, NODE], {
    runs,
    rounds,
    warmup,
    env: stack.env,
  });
  const node = r['node -e 0'];
  const overNode = typeof r.ours.wall.median === 'number' && typeof node.wall.median === 'number' ? r.ours.wall.median - node.wall.median : null;
  const f = (v) => (typeof v === 'number' ? `${Math.round(v)} ms` : '—');
  return {
    figure: '`outboxctl topic list`',
    unit: 'ms',
    stats: r.ours.wall,
    cpu: r.ours.cpu,
    peer: { ...peerOf('`kcat -L`', r.kcat), label: `\`kcat -L\`; \`node -e 0\` ${f(node.wall.median)} wall, ${f(node.cpu?.median)} CPU` },
    ratio: { value: overNode, text: overNode === null ? '—' : `${overNode >= 0 ? '+' : '−'}${Math.abs(Math.round(overNode))} ms over node` },
    target: '≤ `node -e 0` + 60 ms',
    met: overNode === null ? null : overNode <= 60,
    error: failure('outboxctl topic list', r.ours) ?? failure('kcat -L', r.kcat),
    notes: [
      `hyperfine -N, ${rounds} rounds of ${runs} runs, ${warmup} warm-up; the broker of the shared stack (${r.kcat.wall.median === null ? '' : `kcat -L median ${f(r.kcat.wall.median)}, `}its topics: the stack's own and those of the rows before).`,
    ],
  };
}

/** 10: `outboxctl smoke` on the running stack, the whole command; its steps' own times from one `smoke --json`. */
export async function smoke({ short, stack }) {
  const runs = short ? 2 : 4;
  const r = await hyperfine([{ name: 'ours', command: `${bin} smoke` }], { runs, rounds: 1, warmup: short ? 0 : 1, env: stack.env });
  const notes = [
    `hyperfine -N, ${runs} runs${short ? '' : ', 1 warm-up'}; eight steps against the running stack (two events end to end through the sink and the refresh).`,
  ];
  // The steps' own times (and a failing step's message) from one more run, in the full run only.
  const once = short ? { stdout: '', exitCode: null } : await stack.run(['smoke', '--json']);
  let failedStep = null;
  try {
    if (short) throw new Error('not in --short');
    const report = JSON.parse(once.stdout);
    const bad = report.steps.find((s) => s.status !== 'passed');
    if (bad) failedStep = `step ${bad.name} ${bad.status}: ${bad.message}`;
    const steps = report.steps.map((s) => `${s.name} ${s.seconds.toFixed(2)} s`);
    const sum = report.steps.reduce((t, s) => t + s.seconds, 0);
    notes.push(`one more \`smoke --json\`: ${report.seconds.toFixed(2)} s by its own clock, steps ${sum.toFixed(2)} s: ${steps.join(', ')}.`);
  } catch {
    notes.push(short ? 'the steps of one `smoke --json`: in the full run only.' : `\`smoke --json\` gave no report (exit ${once.exitCode}).`);
  }
  return {
    figure: '`outboxctl smoke` on a running stack, whole command',
    unit: 'ms',
    stats: r.ours.wall,
    cpu: r.ours.cpu,
    peer: null,
    ratio: null,
    target: '≤ 1,500 ms',
    met: r.ours.wall.median === null ? null : r.ours.wall.median <= 1500,
    error: [failure('outboxctl smoke', r.ours), failedStep && `in one more \`smoke --json\`, ${failedStep}`].filter(Boolean).join('; ') || null,
    notes,
  };
}
