import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { isRunning } from '../../src/stack/runtimes/native/process.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { stackState } from '../helpers/state.js';
import type { Endpoints } from './check.js';

/** The fault suite's view of one native stack: the CLI as a real process, pids from `status --json`, signals from outside. */

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function outboxctl(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return execa(BIN, args, { env: { OUTBOXCTL_HOME: home, NO_COLOR: '1', ...env }, reject: false, cwd: ROOT, all: false });
}

export async function run(home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const r = await outboxctl(home, args, env);
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface ServiceStatus {
  name: string;
  state: string;
  pid: number | null;
}

/** `status --json`, by service name. */
export async function services(home: string): Promise<Record<string, ServiceStatus>> {
  const r = await run(home, ['status', '--json']);
  const doc = JSON.parse(r.stdout) as { services: ServiceStatus[] };
  return Object.fromEntries(doc.services.map((s) => [s.name, s]));
}

/** The endpoints the checks use, from the stack's state file (status --json has no database URL). */
export async function endpointsOf(home: string): Promise<Endpoints> {
  const e = (await stackState(home)).endpoints as Partial<Endpoints>;
  for (const name of ['database', 'kafka', 'elasticsearch', 'tracking'] as const)
    if (!e[name]) throw new Error(`the stack under ${home} records no ${name} endpoint`);
  return e as Endpoints;
}

async function comm(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
}

/** The JVM of a service: its recorded pid when that is java itself (what the native runtime records), else the java process of its group. */
export async function jvmPid(recorded: number): Promise<number> {
  if ((await comm(recorded)) === 'java') return recorded;
  const r = await execa('pgrep', ['-g', String(recorded), '-x', 'java'], { reject: false });
  const pid = Number(r.stdout.split('\n')[0]);
  if (!pid) throw new Error(`pid ${recorded} (${await comm(recorded)}) is not a JVM and its process group has none`);
  return pid;
}

/** The postmaster's pid from its data directory's postmaster.pid (first line). */
export async function postmasterPid(home: string): Promise<number> {
  const text = await readFile(path.join(home, 'stacks', 'default', 'data', 'postgres', 'postmaster.pid'), 'utf8');
  return Number(text.split('\n')[0]);
}

/** SIGKILL, then wait until the process is gone (a zombie counts as gone). */
export async function killHard(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} still runs 10 s after SIGKILL`);
    await sleep(20);
  }
}

const SIGNATURES: [string, RegExp][] = [
  ['postgres', /\/bin\/postgres .*-D /],
  ['kafka', / kafka\.Kafka /],
  ['elasticsearch', /EsRunner\.java/],
  ['connect', /ConnectDistributed/],
  ['sink', /outboxctl serve sink/],
  ['tracking', /outboxctl serve tracking/],
  ['auditing', /outboxctl serve auditing/],
];

/** The stack's processes found by its directory on their command lines (pgrep -f), by service. */
export async function stackProcesses(home: string): Promise<Record<string, number[]>> {
  const dir = path.join(home, 'stacks', 'default');
  const r = await execa('pgrep', ['-a', '-f', dir], { reject: false });
  const out: Record<string, number[]> = {};
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const pid = Number(line.slice(0, line.indexOf(' ')));
    const name = SIGNATURES.find(([, re]) => re.test(line))?.[0] ?? `other: ${line.slice(0, 160)}`;
    if (pid === process.pid) continue;
    out[name] = [...(out[name] ?? []), pid];
  }
  return out;
}

/** The peers a running server was started with (its environment), so one pointed at another stack's engine is seen. */
const PEER_ENV: Record<string, [string, keyof Endpoints][]> = {
  sink: [
    ['ELASTICSEARCH_URL', 'elasticsearch'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'kafka'],
  ],
  auditing: [['ELASTICSEARCH_URL', 'elasticsearch']],
};

async function environOf(pid: number): Promise<Record<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return Object.fromEntries(text.split('\0').flatMap((kv) => (kv.includes('=') ? [[kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]] : [])));
}

/**
 * Problems with the stack's processes: a service running twice, not the one recorded in status,
 * not ready, or started with a peer other than the stack's own.
 */
export async function processProblems(home: string): Promise<string[]> {
  const [procs, status, endpoints] = await Promise.all([stackProcesses(home), services(home), endpointsOf(home).catch(() => undefined)]);
  const problems: string[] = [];
  for (const [name, peers] of Object.entries(PEER_ENV)) {
    const pid = status[name]?.pid;
    if (!pid) continue;
    const env = await environOf(pid);
    for (const [variable, endpoint] of peers) {
      const wanted = endpoints?.[endpoint];
      if (env[variable] === undefined || (wanted && env[variable] !== wanted)) {
        problems.push(`${name} (pid ${pid}) runs with ${variable}=${env[variable] ?? '(unset)'}, the stack's ${endpoint} is ${wanted ?? '(not recorded)'}`);
      }
    }
  }
  for (const [name, pids] of Object.entries(procs)) {
    if (pids.length > 1) problems.push(`${name} runs ${pids.length} times: pids ${pids.join(', ')}`);
    const recorded = status[name]?.pid;
    if (status[name] && recorded && !pids.includes(recorded)) problems.push(`${name}: recorded pid ${recorded}, running ${pids.join(', ')}`);
  }
  for (const [name, s] of Object.entries(status)) if (s.state !== 'ready') problems.push(`${name} is ${s.state}`);
  return problems;
}

/** The last lines of a service's log, for a finding's evidence. */
export async function logTail(home: string, service: string, lines = 40): Promise<string> {
  return (await run(home, ['logs', service, '--tail', String(lines)])).stdout;
}

export interface VerifyResult {
  available: boolean;
  reason?: string;
  code?: number;
  doc?: { consistent: boolean; problems?: unknown[]; [k: string]: unknown };
  raw?: string;
}

/** `outboxctl verify --from-beginning --json`; any exit but 0 fails the scenario (a usage error too). */
export async function runVerify(home: string): Promise<VerifyResult> {
  const r = await run(home, ['verify', '--from-beginning', '--json']);
  let doc: VerifyResult['doc'];
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch {
    return { available: true, code: r.code, raw: `${r.stdout}\n${r.stderr}`.slice(0, 2_000) };
  }
  return { available: true, code: r.code, doc, raw: r.stdout.slice(0, 4_000) };
}
