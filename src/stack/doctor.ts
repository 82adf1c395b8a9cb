import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { type ArtifactSet, isResolved } from './artifacts.js';
import { availableServices, component } from './components/index.js';
import { dockerEngineAnswers } from './engine.js';
import { isPortFree, portHolder } from './ports.js';
import { checkJava, checkMaven } from './toolchain.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** Required checks fail the command; others only inform. */
  required: boolean;
  found?: string;
  fix?: string;
}

async function nearestExisting(dir: string): Promise<string> {
  let current = dir;
  for (;;) {
    try {
      await statfs(current);
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/** What the native runtime needs on this machine, each missing piece with its fix. */
export async function runDoctor(env: NodeJS.ProcessEnv, home: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  checks.push({
    name: 'node',
    ok: nodeMajor >= 20,
    required: true,
    found: `v${process.versions.node}`,
    fix: nodeMajor >= 20 ? undefined : 'install Node.js 20 or newer',
  });
  const java = await checkJava(env);
  checks.push({ ...java, required: true });
  const mvn = await checkMaven(env);
  const sets = new Map<string, ArtifactSet>();
  for (const s of availableServices()) for (const set of component(s).native.artifactSets ?? []) sets.set(set.id, set);
  const unresolved = [...sets.values()].filter((set) => !isResolved(env, set));
  checks.push({ ...mvn, required: unresolved.length > 0, fix: mvn.ok ? undefined : mvn.fix });
  checks.push({
    name: 'artifacts',
    ok: unresolved.length === 0,
    required: false,
    found: unresolved.length === 0 ? `${sets.size} sets in the cache` : `missing: ${unresolved.map((s) => s.id).join(', ')}`,
    fix: unresolved.length ? 'run `outboxctl fetch` (needs Maven and Maven Central once)' : undefined,
  });
  if (process.getuid?.() === 0) {
    const unshare = await execa('unshare', ['--user', '--map-user=1000', 'true'], { reject: false });
    checks.push({
      name: 'user namespaces (root)',
      ok: unshare.exitCode === 0,
      required: true,
      found: unshare.exitCode === 0 ? 'unshare --user works' : (unshare.stderr || unshare.message || 'unshare failed').trim(),
      fix: unshare.exitCode === 0 ? undefined : 'PostgreSQL cannot run as root: install util-linux, allow user namespaces, or run as a regular user',
    });
  }
  const fs = await statfs(await nearestExisting(home));
  const freeGiB = (fs.bavail * fs.bsize) / 2 ** 30;
  checks.push({
    name: 'disk',
    ok: freeGiB >= 2,
    required: freeGiB < 1,
    found: `${freeGiB.toFixed(1)} GiB free under ${home}`,
    fix: freeGiB >= 2 ? undefined : 'free some disk space (the stack needs about 1 GiB, plus its data)',
  });
  for (const s of availableServices()) {
    for (const spec of component(s).ports) {
      const free = await isPortFree(spec.preferred);
      const holder = free ? undefined : await portHolder(spec.preferred);
      checks.push({
        name: `port ${spec.preferred} (${s}${spec.name === 'main' ? '' : ` ${spec.name}`})`,
        ok: free,
        required: false,
        found: free ? 'free' : `in use${holder ? ` by ${holder}` : ''}`,
        fix: free ? undefined : '`up` will use another port (or fails with --strict-ports)',
      });
    }
  }
  const docker = await dockerEngineAnswers(env);
  checks.push({
    name: 'docker engine',
    ok: docker,
    required: false,
    found: docker ? 'answers' : 'none answers',
    fix: docker ? undefined : 'not needed: the native runtime runs everything as local processes',
  });
  return checks;
}
