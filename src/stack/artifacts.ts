import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { EnvironmentError, ExternalCommandError } from '../lib/errors.js';
import { renderTemplateFile } from '../lib/template.js';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
}

/** A directory of jars resolved together, cached under a name that carries the versions. */
export interface ArtifactSet {
  /** e.g. `kafka-4.3.1`: the cache key, so a version change resolves anew. */
  id: string;
  artifacts: MavenArtifact[];
  /** Group ids left out (e.g. Kafka's own jars from a Connect plugin). */
  excludeGroupIds?: string[];
}

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const MARKER = '.complete';

/** `OUTBOXCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/outboxctl`, else `~/.cache/outboxctl`. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.OUTBOXCTL_CACHE_DIR) return path.resolve(env.OUTBOXCTL_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'outboxctl');
}

export function artifactDir(env: NodeJS.ProcessEnv, set: ArtifactSet): string {
  return path.join(cacheRoot(env), 'artifacts', set.id);
}

export function isResolved(env: NodeJS.ProcessEnv, set: ArtifactSet): boolean {
  return existsSync(path.join(artifactDir(env, set), MARKER));
}

function dependenciesXml(artifacts: MavenArtifact[]): string {
  return artifacts
    .map((a) => `    <dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version></dependency>`)
    .join('\n');
}

export interface ResolveOptions {
  env: NodeJS.ProcessEnv;
  onProgress?: (message: string) => void;
}

/**
 * Resolves an artifact set with `mvn dependency:copy-dependencies` into the cache, once:
 * a set already there resolves nothing. The directory appears whole or not at all.
 */
export async function resolveArtifactSet(set: ArtifactSet, options: ResolveOptions): Promise<string> {
  const dir = artifactDir(options.env, set);
  if (existsSync(path.join(dir, MARKER))) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  const work = await mkdtemp(path.join(path.dirname(dir), `.${set.id}-`));
  try {
    const pom = await renderTemplateFile('maven/pom.xml', { ARTIFACT_SET: set.id, DEPENDENCIES: dependenciesXml(set.artifacts) });
    await writeFile(path.join(work, 'pom.xml'), pom);
    const libs = path.join(work, 'libs');
    const args = ['-B', '-f', path.join(work, 'pom.xml'), `${DEPENDENCY_PLUGIN}:copy-dependencies`, `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'];
    if (set.excludeGroupIds?.length) args.push(`-DexcludeGroupIds=${set.excludeGroupIds.join(',')}`);
    options.onProgress?.(`resolving ${set.id} with Maven`);
    let downloaded = 0;
    const mvn = execa('mvn', args, { reject: false, all: true, env: { ...options.env, MAVEN_OPTS: options.env.MAVEN_OPTS ?? '-Xmx512m' } });
    mvn.all?.on('data', (chunk: Buffer) => {
      const n = (String(chunk).match(/Downloaded from/g) ?? []).length;
      if (n > 0) {
        downloaded += n;
        options.onProgress?.(`resolving ${set.id}: ${downloaded} files downloaded`);
      }
    });
    const result = await mvn;
    if (result.exitCode === undefined && /ENOENT/.test(result.message ?? '')) throw missingMaven();
    if (result.exitCode !== 0) {
      const lines = (result.all ?? '')
        .split('\n')
        .filter((l) => /ERROR/.test(l))
        .slice(-10);
      throw new ExternalCommandError(
        `mvn ${args.join(' ')}`,
        `Maven could not resolve ${set.id}: ${(lines[0] ?? `exit code ${String(result.exitCode)}`).replace(/^\[ERROR\]\s*/, '')}`,
        {
          details: lines.slice(1),
          hint: 'Check that Maven Central is reachable (or the artifacts are in ~/.m2), then retry `outboxctl fetch`.',
        },
      );
    }
    const jars = (await readdir(libs)).filter((f) => f.endsWith('.jar')).sort();
    await writeFile(path.join(work, MARKER), `${jars.join('\n')}\n`);
    // Another resolver finished first: keep its directory (a JVM may already load from it).
    if (existsSync(path.join(dir, MARKER))) return dir;
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    options.onProgress?.(`resolved ${set.id}: ${jars.length} jars`);
    return dir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function missingMaven(): EnvironmentError {
  return new EnvironmentError('MAVEN_MISSING', 'Maven (`mvn`) was not found on PATH; the native runtime resolves Kafka, Connect and Debezium with it.', {
    hint: 'Install Maven (Debian: apt-get install maven), or run `outboxctl fetch` on a machine that has it and copy the cache.',
  });
}
