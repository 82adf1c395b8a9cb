import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { renderTemplate, renderTemplateFile } from '../../src/lib/template.js';
import { type ArtifactSet, resolveArtifactSet } from '../../src/stack/artifacts.js';
import { debeziumPostgresPlugin } from '../../src/stack/components/connect.js';
import { elasticsearchArtifacts } from '../../src/stack/components/elasticsearch.js';
import { kafkaArtifacts, kafkaToolsArtifacts } from '../../src/stack/components/jvm.js';
import { KAFKA_VERSION } from '../../src/stack/components/versions.js';
import { KAFKA_TOOLS } from '../../src/stack/runtimes/native/kafka-tools.js';

/**
 * Build contexts of the Docker-runtime suite's local images, which stand in for the upstream images
 * (no registry here) with the same environment and command contracts: postgres (Debian's
 * PostgreSQL), kafka and connect (the Maven-resolved Kafka jars, Debezium's plugin), elasticsearch
 * (7.10.2 through codelibs' cluster runner). Each context is a directory under
 * `${XDG_CACHE_HOME:-~/.cache}/outboxctl-ci/images/<service>/` for `OUTBOXCTL_IMAGE_<SERVICE>`.
 */

export type TestImageService = 'postgres' | 'kafka' | 'connect' | 'elasticsearch';

const KAFKA_TOOLS_JAR = `kafka-tools-${KAFKA_VERSION}.jar`;

const SOURCES = path.dirname(fileURLToPath(import.meta.url));

/** `localhost/outboxctl-base:<suite>`, the suite being this machine's (.ci/container-engine.sh builds it); `OUTBOXCTL_TEST_BASE_IMAGE` overrides. */
export function testBaseImage(env: NodeJS.ProcessEnv): string {
  if (env.OUTBOXCTL_TEST_BASE_IMAGE) return env.OUTBOXCTL_TEST_BASE_IMAGE;
  const release = readFileSync('/etc/os-release', 'utf8');
  const suite = /^VERSION_CODENAME="?([^"\n]+)"?$/m.exec(release)?.[1];
  if (!suite) throw new Error('/etc/os-release names no VERSION_CODENAME: set OUTBOXCTL_TEST_BASE_IMAGE to the base image of the test images');
  return `localhost/outboxctl-base:${suite}`;
}

/** Where the contexts are staged. */
export function testImagesRoot(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'outboxctl-ci', 'images');
}

/** A file of a context: literal content, or a file linked (else copied) from the artifact cache. */
type Entry = { content: string | Buffer; mode: number } | { source: string };

const EXECUTABLE = 0o755;
const REGULAR = 0o644;

/**
 * Resolves the Maven artifact sets (nothing to do when cached), stages the four contexts and returns
 * their directories. A file is rewritten only when its content changed, so the contexts' mtimes, and
 * any fingerprint over them, stay the same from run to run.
 */
export async function prepareTestImageContexts(
  env: NodeJS.ProcessEnv,
  options: { onProgress?: (message: string) => void } = {},
): Promise<Record<TestImageService, string>> {
  const resolve = (set: ArtifactSet) => resolveArtifactSet(set, { env, onProgress: options.onProgress });
  const kafkaDir = await resolve(kafkaArtifacts);
  const debeziumDir = await resolve(debeziumPostgresPlugin);
  const esDir = await resolve(elasticsearchArtifacts);
  const kafkaJars = await jarsOf(kafkaDir);
  // The runtime's set may carry the tools itself one day; else the one jar comes from its own set.
  const toolsJar = kafkaJars.includes(KAFKA_TOOLS_JAR) ? undefined : path.join(await resolve(kafkaToolsArtifacts), 'libs', KAFKA_TOOLS_JAR);

  const vars = { BASE_IMAGE: testBaseImage(env) };
  const root = testImagesRoot(env);
  const dockerfile = async (service: TestImageService): Promise<Entry> => ({
    content: renderTemplate(await readFile(path.join(SOURCES, service, 'Dockerfile.in'), 'utf8'), vars, `test/images/${service}/Dockerfile.in`),
    mode: REGULAR,
  });
  const script = async (relative: string): Promise<Entry> => ({ content: await readFile(path.join(SOURCES, relative)), mode: EXECUTABLE });

  // kafka and connect share everything up to their own entrypoint (and so the image layers).
  const kafkaShared = new Map<string, Entry>();
  for (const jar of kafkaJars) kafkaShared.set(`libs/${jar}`, { source: path.join(kafkaDir, 'libs', jar) });
  if (toolsJar) kafkaShared.set(`libs/${KAFKA_TOOLS_JAR}`, { source: toolsJar });
  kafkaShared.set('config/log4j2.yaml', { content: await renderTemplateFile('log4j2.yaml', {}), mode: REGULAR });
  kafkaShared.set('config/tools-log4j2.yaml', { content: await readFile(path.join(SOURCES, 'kafka-bin', 'tools-log4j2.yaml')), mode: REGULAR });
  for (const name of ['kafka-run-class.sh', 'kafka-server-start.sh', 'connect-distributed.sh'])
    kafkaShared.set(`bin/${name}`, await script(`kafka-bin/${name}`));
  // The same scripts as the native wrappers (and as apache/kafka's /opt/kafka/bin).
  for (const { script: name, mainClass } of KAFKA_TOOLS) if (mainClass) kafkaShared.set(`bin/${name}`, { content: wrapper(mainClass), mode: EXECUTABLE });

  const postgres = new Map<string, Entry>([
    ['Dockerfile', await dockerfile('postgres')],
    ['docker-entrypoint.sh', await script('postgres/docker-entrypoint.sh')],
  ]);
  const kafka = new Map<string, Entry>([...kafkaShared, ['Dockerfile', await dockerfile('kafka')], ['run', await script('kafka/run')]]);
  const connect = new Map<string, Entry>([...kafkaShared, ['Dockerfile', await dockerfile('connect')], ['run', await script('connect/run')]]);
  for (const jar of await jarsOf(debeziumDir)) connect.set(`plugins/debezium-connector-postgres/${jar}`, { source: path.join(debeziumDir, 'libs', jar) });
  const elasticsearch = new Map<string, Entry>([
    ['Dockerfile', await dockerfile('elasticsearch')],
    ['docker-entrypoint.sh', await script('elasticsearch/docker-entrypoint.sh')],
  ]);
  for (const jar of await jarsOf(esDir)) elasticsearch.set(`lib/${jar}`, { source: path.join(esDir, 'libs', jar) });
  const esContext = path.join(root, 'elasticsearch');
  for (const [file, content] of await esLauncher(esContext, path.join(esDir, 'libs'))) elasticsearch.set(`launcher/${file}`, { content, mode: REGULAR });

  const contexts = { postgres, kafka, connect, elasticsearch };
  const dirs = {} as Record<TestImageService, string>;
  for (const [service, entries] of Object.entries(contexts) as [TestImageService, Map<string, Entry>][]) {
    dirs[service] = path.join(root, service);
    await syncDirectory(dirs[service], entries);
  }
  return dirs;
}

function wrapper(main: string): string {
  return `#!/usr/bin/env bash\n# Written by test/images/prepare.ts: Kafka's script of the same name.\nexec "$(dirname "\${BASH_SOURCE[0]}")/kafka-run-class.sh" ${main} "$@"\n`;
}

async function jarsOf(setDir: string): Promise<string[]> {
  return (await readdir(path.join(setDir, 'libs'))).filter((f) => f.endsWith('.jar')).sort();
}

/**
 * EsContainer.java compiled with the host's javac (the image has a JRE only, no compiler for Java's
 * source launch), again only when its source changed: the context keeps the source beside the classes.
 */
async function esLauncher(context: string, libs: string): Promise<Map<string, Buffer>> {
  const source = await readFile(path.join(SOURCES, 'elasticsearch', 'EsContainer.java'));
  const staged = path.join(context, 'launcher');
  const files = new Map<string, Buffer>([['EsContainer.java', source]]);
  const current = existsSync(staged) ? (await readdir(staged)).filter((f) => f.endsWith('.class')) : [];
  const stagedSource = existsSync(path.join(staged, 'EsContainer.java')) ? await readFile(path.join(staged, 'EsContainer.java')) : undefined;
  if (current.includes('EsContainer.class') && stagedSource?.equals(source)) {
    for (const f of current) files.set(f, await readFile(path.join(staged, f)));
    return files;
  }
  const out = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-es-launcher-'));
  try {
    await writeFile(path.join(out, 'EsContainer.java'), source);
    const result = await execa('javac', ['--release', '17', '-nowarn', '-cp', `${libs}/*`, '-d', out, path.join(out, 'EsContainer.java')], {
      reject: false,
      all: true,
    });
    if (result.failed) {
      const missing = /ENOENT/.test(result.message ?? '');
      throw new Error(
        missing
          ? 'javac was not found: the elasticsearch test image needs a JDK on the host to compile its launcher (Debian: apt-get install openjdk-17-jdk-headless)'
          : `javac could not compile test/images/elasticsearch/EsContainer.java: ${result.all ?? result.message}`,
      );
    }
    for (const f of (await readdir(out)).filter((f) => f.endsWith('.class'))) files.set(f, await readFile(path.join(out, f)));
    return files;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** Makes `dir` hold exactly `entries` (relative path -> entry), touching only what differs. */
async function syncDirectory(dir: string, entries: Map<string, Entry>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const existing of await listFiles(dir)) {
    if (!entries.has(existing)) await rm(path.join(dir, existing), { force: true });
  }
  await removeEmptyDirectories(dir, dir);
  for (const [relative, entry] of entries) {
    const target = path.join(dir, relative);
    await mkdir(path.dirname(target), { recursive: true });
    const now = await lstat(target).catch(() => undefined);
    if ('source' in entry) {
      const src = await stat(entry.source);
      if (now?.isFile() && ((now.ino === src.ino && now.dev === src.dev) || (now.size === src.size && now.mtimeMs === src.mtimeMs))) continue;
      const tmp = `${target}.${process.pid}.tmp`;
      await rm(tmp, { force: true });
      try {
        await link(entry.source, tmp);
      } catch {
        // Another file system (or no hard links): a copy with the source's times.
        await copyFile(entry.source, tmp);
        await utimes(tmp, src.atime, src.mtime);
      }
      await rename(tmp, target);
      continue;
    }
    const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
    if (now?.isFile() && now.size === content.length && (await readFile(target)).equals(content)) {
      if ((now.mode & 0o777) !== entry.mode) await chmod(target, entry.mode);
      continue;
    }
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, content, { mode: entry.mode });
    await chmod(tmp, entry.mode);
    await rename(tmp, target);
  }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await listFiles(dir, relative)));
    else out.push(relative);
  }
  return out;
}

async function removeEmptyDirectories(root: string, dir: string): Promise<void> {
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (d.isDirectory()) await removeEmptyDirectories(root, path.join(dir, d.name));
  }
  if (dir !== root && (await readdir(dir)).length === 0) await rmdir(dir);
}
