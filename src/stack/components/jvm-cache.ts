import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { cacheRoot } from '../artifacts.js';

/**
 * What JVM start-up keeps between runs, in the artifact cache: class-data-sharing archives (the
 * classes a service loaded, mapped instead of parsed and verified again) and the runners compiled
 * from templates/. Each is keyed by the JDK and by what it was made from, so another JDK or other
 * jars never meet an archive made for the old ones (the JVM would warn and ignore it).
 */

const ARCHIVE = '.jsa';
/** An archive the JVM writes at its exit: used only once a check run has mapped it whole. */
const PART = '.jsa.part';

/** The JDK `java` on PATH belongs to: its home, release file and libjvm, hashed. */
export async function jdkKey(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const java = path.join(dir, 'java');
    if (!existsSync(java)) continue;
    try {
      const home = path.dirname(path.dirname(await realpath(java)));
      const release = await readFile(path.join(home, 'release'), 'utf8').catch(() => '');
      const libjvm = await stat(path.join(home, 'lib', 'server', 'libjvm.so')).catch(() => undefined);
      return hash([home, release, libjvm ? `${libjvm.size}:${libjvm.mtimeMs}` : ''].join('\n'));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The jars of a class path (`dir/*` as java expands it), by name, size and time: a new jar is another key. */
async function classpathKey(classpath: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of await expandClasspath(classpath)) {
    const s = await stat(file).catch(() => undefined);
    parts.push(`${file}:${s?.size ?? '-'}:${s?.mtimeMs ?? '-'}`);
  }
  return parts.join('\n');
}

/** Each `dir/*` entry as its jars (javac, run as a module, does not expand them as the launcher does). */
async function expandClasspath(classpath: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const entry of classpath) {
    const dir = entry.endsWith('/*') ? entry.slice(0, -2) : undefined;
    if (!dir) out.push(entry);
    else out.push(...(await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.jar')).map((f) => path.join(dir, f)));
  }
  return out;
}

export interface ArchiveRequest {
  env: NodeJS.ProcessEnv;
  /** The service (part of the file name). */
  name: string;
  classpath: string[];
  /** The main class or source file, and any flag that changes what is archived. */
  main: string;
}

/** The archive's path without its extension, or undefined when there is no JDK to key it by. */
export async function archiveBase(request: ArchiveRequest): Promise<string | undefined> {
  const jdk = await jdkKey(request.env);
  if (!jdk) return undefined;
  const key = hash([jdk, request.main, await classpathKey(request.classpath)].join('\n'));
  return path.join(cacheRoot(request.env), 'cds', `${request.name}-${key}`);
}

/** Quiet: an archive the JVM cannot use is skipped without a warning in the service's log. */
const QUIET = '-Xlog:cds=off,cds+dynamic=off,class+path=off';

/**
 * The flags that make a JVM start from its class-data-sharing archive, or (none yet) write one when
 * it exits (`down` stops it cleanly). Off with OUTBOXCTL_JVM_CDS=0. Never fails a start: without an
 * archive the JVM starts as it would have.
 */
export async function classDataSharing(request: ArchiveRequest): Promise<string[]> {
  try {
    if (request.env.OUTBOXCTL_JVM_CDS === '0') return [];
    const base = await archiveBase(request);
    if (!base) return [];
    const archive = `${base}${ARCHIVE}`;
    if (existsSync(archive)) {
      await removeStaleWritten(base);
      return [QUIET, `-XX:SharedArchiveFile=${archive}`];
    }
    if (await adoptWritten(base, request)) return [QUIET, `-XX:SharedArchiveFile=${archive}`];
    await mkdir(path.dirname(base), { recursive: true });
    // A name of its own: two stacks' JVMs of one key may exit at once.
    return [QUIET, `-XX:ArchiveClassesAtExit=${base}.${process.pid}-${randomBytes(4).toString('hex')}${PART}`];
  } catch {
    return [];
  }
}

/**
 * Makes an archive some JVM wrote at its exit the one to use, once a check run maps it whole with its
 * checksums (one killed while writing leaves a file that would crash the JVM); the others go.
 */
async function adoptWritten(base: string, request: ArchiveRequest): Promise<boolean> {
  const dir = path.dirname(base);
  const prefix = `${path.basename(base)}.`;
  const written = (await readdir(dir).catch(() => [])).filter((f) => f.startsWith(prefix) && f.endsWith(PART));
  let adopted = false;
  for (const file of written) {
    const candidate = path.join(dir, file);
    if (!adopted && (await archiveMaps(candidate, request))) {
      await rename(candidate, `${base}${ARCHIVE}`);
      adopted = true;
    } else {
      await rm(candidate, { force: true });
    }
  }
  return adopted;
}

/** JVMs started before an archive was adopted still write theirs at exit: those go once surely finished. */
const STALE_WRITTEN_MS = 10 * 60_000;

async function removeStaleWritten(base: string): Promise<void> {
  const dir = path.dirname(base);
  const prefix = `${path.basename(base)}.`;
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    if (!file.startsWith(prefix) || !file.endsWith(PART)) continue;
    const candidate = path.join(dir, file);
    const written = await stat(candidate).catch(() => undefined);
    if (written && Date.now() - written.mtimeMs > STALE_WRITTEN_MS) await rm(candidate, { force: true });
  }
}

async function archiveMaps(file: string, request: ArchiveRequest): Promise<boolean> {
  const result = await execa(
    'java',
    [
      '-Xshare:on',
      '-XX:+VerifySharedSpaces',
      // The services' heaps keep compressed oops on; the default heap of a very large host would not, and the archive would not map.
      '-Xmx256m',
      `-XX:SharedArchiveFile=${file}`,
      '-XX:ErrorFile=/dev/null',
      '-XX:-CreateCoredumpOnCrash',
      '-cp',
      request.classpath.join(path.delimiter),
      '-version',
    ],
    { reject: false, env: request.env, all: true, timeout: 30_000 },
  );
  return result.exitCode === 0;
}

/**
 * A runner of templates/ (a single Java source file) compiled once against its class path; the
 * directory of its classes, or undefined when it cannot be compiled (java then runs the source file).
 */
export async function compiledRunner(env: NodeJS.ProcessEnv, source: string, classpath: string[]): Promise<string | undefined> {
  try {
    const jdk = await jdkKey(env);
    if (!jdk) return undefined;
    const text = await readFile(source, 'utf8');
    const dir = path.join(cacheRoot(env), 'runners', `${path.basename(source, '.java')}-${hash([jdk, text, await classpathKey(classpath)].join('\n'))}`);
    if (existsSync(path.join(dir, '.complete'))) return dir;
    const work = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    await mkdir(work, { recursive: true });
    try {
      // javac of the JDK `java` belongs to (a JRE has the compiler module the source launcher uses).
      const result = await execa(
        'java',
        ['--module', 'jdk.compiler/com.sun.tools.javac.Main', '-nowarn', '-d', work, '-cp', (await expandClasspath(classpath)).join(path.delimiter), source],
        { reject: false, env, all: true, timeout: 120_000 },
      );
      if (result.exitCode !== 0) return undefined;
      await writeFile(path.join(work, '.complete'), '');
      // A directory of that name only ever appears whole (renamed from a complete work directory),
      // and another stack may be running from it: never remove it; the rename fails if it is there.
      try {
        await rename(work, dir);
      } catch {
        // another stack's compile got there first
      }
      return existsSync(path.join(dir, '.complete')) ? dir : undefined;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } catch {
    return undefined;
  }
}
