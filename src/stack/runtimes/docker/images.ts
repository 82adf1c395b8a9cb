import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { EnvironmentError, UserError } from '../../../lib/errors.js';
import { packagePath } from '../../../lib/template.js';
import type { Component } from '../../components/types.js';
import { BUILT_LABEL } from './engine.js';

/** Where an image comes from: a reference to pull, or a directory with a Dockerfile to build (tagged by its content). */
export interface ImageSource {
  ref: string;
  /** The build context, when the engine builds it. */
  build?: string;
}

const envName = (service: string) => `OUTBOXCTL_IMAGE_${service.toUpperCase()}`;

/** compose/<dir> of the package, where the images outboxctl builds itself are described. */
const composeDir = (relative: string) => packagePath(`compose/${relative}`);

const isDirectoryRef = (value: string) => /^(\/|\.\.?\/)/.test(value) || (existsSync(value) && statSync(value).isDirectory());

/**
 * The image a component runs: `--image SERVICE=REF|DIR` / `OUTBOXCTL_IMAGE_<SERVICE>` first, then the
 * image its last container ran (so a recreated container is the same), then its pinned default.
 */
export async function imageSource(component: Component, env: NodeJS.ProcessEnv, recorded?: string): Promise<ImageSource> {
  const section = component.container!;
  const override = env[envName(component.name)];
  if (override) {
    if (!isDirectoryRef(override)) return { ref: override };
    const dir = path.resolve(override);
    if (!existsSync(path.join(dir, 'Dockerfile'))) {
      throw new UserError('IMAGE_CONTEXT_INVALID', `${envName(component.name)}=${override} is a directory without a Dockerfile.`, {
        hint: 'Point it at a build context (a directory holding a Dockerfile) or at an image reference such as postgres:17.11.',
      });
    }
    // `localhost/`: a name without a registry would read as Docker Hub's (`docker.io/outboxctl-local/…`).
    return { ref: `localhost/outboxctl-local/${component.name}:${await fingerprint(dir)}`, build: dir };
  }
  if (recorded) return { ref: recorded, build: recorded === section.image && section.build ? composeDir(section.build) : undefined };
  return { ref: section.image, build: section.build ? composeDir(section.build) : undefined };
}

/** A short digest of a build context: names, sizes and modification times of its files, and the Dockerfile's text. */
export async function fingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (at: string) => {
    for (const entry of (await readdir(at, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const s = await stat(full);
        hash.update(`${path.relative(dir, full)}\0${s.size}\0${Math.floor(s.mtimeMs)}\0`);
      }
    }
  };
  await walk(dir);
  hash.update(await readFile(path.join(dir, 'Dockerfile')));
  return hash.digest('hex').slice(0, 12);
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

interface StreamEvent {
  status?: string;
  id?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  progressDetail?: { current?: number; total?: number };
}

/** Reads an Engine API progress stream to its end; a failure arrives as an event (the HTTP status said 200). */
function follow(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: StreamEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        if (error) reject(error);
        else if (failure) reject(new Error(failure));
        else resolve();
      },
      (event: StreamEvent) => {
        const message = event.errorDetail?.message ?? event.error;
        if (message) failure ??= message;
        onEvent(event);
      },
    );
  });
}

const mb = (bytes: number) => `${Math.round(bytes / 1_000_000)} MB`;

async function pull(docker: Docker, ref: string, onProgress: (message: string) => void): Promise<void> {
  const layers = new Map<string, { current: number; total: number }>();
  onProgress(`pulling ${ref}`);
  const stream = (await docker.pull(ref)) as NodeJS.ReadableStream;
  await follow(docker, stream, (event) => {
    if (!event.id || !event.progressDetail?.total) return;
    layers.set(event.id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total });
    let current = 0;
    let total = 0;
    for (const l of layers.values()) {
      current += l.current;
      total += l.total;
    }
    onProgress(`pulling ${ref}: ${mb(current)} / ${mb(total)}`);
  });
}

async function build(docker: Docker, ref: string, context: string, onProgress: (message: string) => void): Promise<void> {
  const { pack } = await import('tar-fs');
  onProgress(`building ${ref} from ${context}`);
  const stream = await docker.buildImage(pack(context) as unknown as NodeJS.ReadableStream, {
    t: ref,
    rm: true,
    forcerm: true,
    labels: { [BUILT_LABEL]: 'true' },
  });
  let step = '';
  await follow(docker, stream, (event) => {
    const line = event.stream?.trim();
    const at = line?.match(/^(?:STEP|Step) (\d+\/\d+)/);
    if (at && at[1] !== step) {
      step = at[1]!;
      onProgress(`building ${ref}: step ${step}`);
    }
  });
}

/**
 * Makes the image present: kept when the engine has it, else built from its context or pulled.
 * A pull that fails (no registry, no such image) reports it only in the stream: read as such.
 */
export async function ensureImage(docker: Docker, service: string, source: ImageSource, onProgress: (message: string) => void): Promise<void> {
  if (await imageExists(docker, source.ref)) return;
  const started = Date.now();
  try {
    if (source.build) await build(docker, source.ref, source.build, onProgress);
    else await pull(docker, source.ref, onProgress);
  } catch (error) {
    const reason = ((error as { json?: { message?: string } }).json?.message ?? (error as Error).message).trim();
    throw new EnvironmentError(
      'IMAGE_UNAVAILABLE',
      source.build
        ? `The ${service} image ${source.ref} could not be built from ${source.build}: ${reason}.`
        : `The ${service} image ${source.ref} is not on this machine and could not be pulled: ${reason}.`,
      {
        hint: source.build
          ? `Fix the build (\`docker build ${source.build}\` shows it whole), or run another image with --image ${service}=REF.`
          : `Check the name and that its registry is reachable (\`docker pull ${source.ref}\`), or run another image with --image ${service}=REF.`,
        cause: error,
      },
    );
  }
  onProgress(`${source.build ? 'built' : 'pulled'} ${source.ref} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
