// Row 8: `up` of the kept stack (data kept) to all ready, with its critical path from `up`'s own
// progress lines. Row 9: `up` on a fresh machine (empty caches, Maven downloads included) beside
// `mvn dependency:copy-dependencies` of the same artifact sets alone.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CRITICAL_PATH, criticalPath, parseUpProgress } from '../lib/parse.mjs';
import { log, root, Stack, timed } from '../lib/proc.mjs';
import { ratio, summarize } from '../lib/stats.mjs';

const fmt = (s) => `${s.toFixed(1)} s`;

export async function upWarm({ short, stack }) {
  const rounds = short ? 1 : 3;
  const seconds = [];
  const paths = [];
  const retries = [];
  for (let round = 0; round < rounds; round++) {
    await stack.down();
    log(`up-warm: round ${round + 1}`);
    const r = await stack.up();
    seconds.push(r.seconds);
    retries.push(r.attempt - 1);
    paths.push({ path: criticalPath(parseUpProgress(r.stderr)), steps: parseUpProgress(r.stderr) });
  }
  const stats = summarize(seconds, { percentiles: false });
  const crit = summarize(
    paths.map((p) => p.path.seconds),
    { percentiles: false },
  );
  const last = paths.at(-1);
  const value = ratio(stats.median, crit.median);
  const notes = [
    `${rounds} round(s) of \`down\` (data kept) then \`up\` of the shared stack, timed from spawn to exit (all seven services ready and the pipeline's steps done); a round that lost a port race to another stack is timed on its successful attempt (retries: ${retries.join(', ')}).`,
    `critical path per round (${CRITICAL_PATH.join(' → ')}, each step's own time from \`up\`'s progress lines): ${paths.map((p) => fmt(p.path.seconds)).join(', ')}${last.path.missing.length ? `; not in the progress: ${last.path.missing.join(', ')}` : ''}.`,
    `last round, every step: ${last.steps.map((s) => `${s.name} ${s.seconds.toFixed(1)}`).join(', ')} s.`,
  ];
  return {
    figure: '`up`, warm (data kept), to all ready',
    unit: 's',
    stats,
    cpu: null,
    peer: { label: `critical path ${CRITICAL_PATH.join(' → ')}`, unit: 's', stats: crit.n ? crit : null, cpu: null },
    ratio: { value, text: `${value?.toFixed(2) ?? '—'}× the critical path` },
    target: '≤ 12 s',
    met: stats.median === null ? null : stats.median <= 12,
    error: null,
    notes,
  };
}

const DEFAULT_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** The artifact sets a default `up` resolves (every service it starts), from the built components. */
async function upArtifactSets() {
  const { COMPONENTS } = await import(`${root}/dist/stack/components/index.js`);
  const sets = new Map();
  for (const c of Object.values(COMPONENTS)) for (const set of c.native?.artifactSets ?? []) sets.set(set.id, set);
  return [...sets.values()];
}

/** The peer: the same `mvn … copy-dependencies` commands outboxctl runs, one set after another, into an empty local repository. */
async function mavenAlone(sets, repo, work) {
  const { renderTemplateFile } = await import(`${root}/dist/lib/template.js`);
  const source = await readFile(path.join(root, 'dist/stack/artifacts.js'), 'utf8');
  const plugin = /DEPENDENCY_PLUGIN = '([^']+)'/.exec(source)?.[1] ?? DEFAULT_PLUGIN;
  const started = performance.now();
  const per = [];
  for (const set of sets) {
    const dir = path.join(work, set.id);
    await mkdir(dir, { recursive: true });
    const deps = set.artifacts
      .map((a) => `    <dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version></dependency>`)
      .join('\n');
    await writeFile(path.join(dir, 'pom.xml'), await renderTemplateFile('maven/pom.xml', { ARTIFACT_SET: set.id, DEPENDENCIES: deps }));
    const args = [
      '-B',
      '-f',
      path.join(dir, 'pom.xml'),
      `${plugin}:copy-dependencies`,
      `-DoutputDirectory=${path.join(dir, 'libs')}`,
      '-DincludeScope=runtime',
    ];
    if (set.excludeGroupIds?.length) args.push(`-DexcludeGroupIds=${set.excludeGroupIds.join(',')}`);
    const r = await timed('mvn', args, { env: { ...process.env, MAVEN_OPTS: `-Xmx512m -Dmaven.repo.local=${repo}` } });
    if (r.exitCode !== 0) throw new Error(`mvn for ${set.id} failed (exit ${r.exitCode}): ${r.stdout.split('\n').find((l) => /ERROR/.test(l)) ?? ''}`);
    per.push({ id: set.id, seconds: r.seconds });
  }
  return { seconds: (performance.now() - started) / 1000, per, plugin };
}

export async function upFresh() {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-bench-fresh-'));
  const cache = path.join(scratch, 'cache');
  const repo = path.join(scratch, 'm2-ours');
  const stack = await Stack.create('fresh', { OUTBOXCTL_CACHE_DIR: cache, MAVEN_OPTS: `-Xmx512m -Dmaven.repo.local=${repo}` });
  try {
    log('up-fresh: up with an empty artifact cache and an empty Maven repository');
    const r = await stack.up();
    const downloaded = existsSync(repo);
    const steps = parseUpProgress(r.stderr);
    await stack.destroy();
    const sets = await upArtifactSets();
    log(`up-fresh: the peer, mvn alone for ${sets.map((s) => s.id).join(', ')}`);
    const peer = await mavenAlone(sets, path.join(scratch, 'm2-peer'), path.join(scratch, 'peer'));
    const value = ratio(r.seconds, peer.seconds);
    return {
      figure: '`up` on a fresh machine, empty caches (Maven downloads included)',
      unit: 's',
      stats: summarize([r.seconds], { percentiles: false }),
      cpu: null,
      peer: {
        label: '`mvn dependency:copy-dependencies` of the same sets alone',
        unit: 's',
        stats: summarize([peer.seconds], { percentiles: false }),
        cpu: null,
      },
      ratio: { value, text: `${value?.toFixed(2) ?? '—'}× Maven alone` },
      target: '≤ 1.2× the Maven step alone',
      met: value === null ? null : value <= 1.2,
      error:
        r.attempt > 1
          ? `up lost a port race to another stack and succeeded on attempt ${r.attempt}, with the artifacts the first attempt downloaded: not the figure of a fresh machine (${r.seconds.toFixed(1)} s)`
          : downloaded
            ? null
            : `the Maven repository ${repo} was never written: \`up\` did not resolve through it, so this was not a fresh machine`,
      notes: [
        `one run: a fresh OUTBOXCTL_HOME and OUTBOXCTL_CACHE_DIR, MAVEN_OPTS=-Xmx512m -Dmaven.repo.local=<empty dir> (outboxctl passes MAVEN_OPTS on to mvn), Maven Central over the network; ${r.attempt > 1 ? `attempt ${r.attempt} after a port race (the cache from the attempt before was kept)` : 'first attempt'}.`,
        `\`up\`'s steps: ${steps.map((s) => `${s.name} ${s.seconds.toFixed(1)}`).join(', ')} s (artifact resolution comes before them).`,
        `peer: ${peer.plugin}:copy-dependencies with outboxctl's rendered pom, one set after another, into another empty local repository: ${peer.per.map((p) => `${p.id} ${fmt(p.seconds)}`).join(', ')}.`,
      ],
    };
  } finally {
    await stack.destroy();
    await rm(scratch, { recursive: true, force: true });
  }
}
