import { existsSync } from 'node:fs';
import http from 'node:http';

/** The Docker Engine API socket that DOCKER_HOST or the default location names, if any. */
export function dockerSocket(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (host) return undefined;
  return existsSync('/var/run/docker.sock') ? '/var/run/docker.sock' : undefined;
}

/** True when a Docker-compatible engine answers `GET /_ping` on its socket. */
export function dockerEngineAnswers(env: NodeJS.ProcessEnv, timeoutMs = 1_000): Promise<boolean> {
  const socketPath = dockerSocket(env);
  if (!socketPath) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
