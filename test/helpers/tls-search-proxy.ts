import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { execa } from 'execa';
import type { HttpTarget } from '../../src/lib/targets.js';
import { freePort } from '../../src/stack/ports.js';
import { makeTestCertificates, type TestCertificates } from './certs.js';

/**
 * Debian's nginx (package `nginx-light`, or `nginx`) as a TLS-terminating reverse proxy with basic
 * auth in front of a plain HTTP upstream (a search engine, or anything else). It runs in the
 * foreground with its own prefix, config, pid file and logs under `dir`; the credentials are
 * checked by nginx and not passed upstream.
 */
export interface TlsProxy {
  /** `https://127.0.0.1:PORT`, without credentials. */
  url: string;
  /** The same proxy at `https://127.0.0.2:PORT`: a name the server certificate lacks. */
  mismatchedUrl: string;
  port: number;
  username: string;
  password: string;
  certs: TestCertificates;
  /** What a client that does everything right uses: basic auth, trust in certs.caCert (and the client certificate when required). */
  target: HttpTarget;
  /** The last lines of nginx's error log. */
  logTail(lines?: number): Promise<string>;
  /** SIGQUIT (graceful), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface TlsProxyOptions {
  /** Config, htpasswd, logs, temp files, certificates (unless given): all under it. */
  dir: string;
  /** The plain HTTP upstream, e.g. `http://127.0.0.1:9200`. */
  upstream: string;
  certs?: TestCertificates;
  /** Default `elastic`. */
  username?: string;
  /** Default a fixed test password. */
  password?: string;
  /** Default: a free one. */
  port?: number;
  /** Mutual TLS: refuse clients without a certificate of certs.caCert (nginx's `ssl_verify_client on`). */
  requireClientCert?: boolean;
}

/** Where Debian puts nginx; PATH may lack /usr/sbin for a non-root shell. */
async function nginxBinary(): Promise<string> {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    const r = await execa(candidate, ['-v'], { reject: false });
    if (r.exitCode === 0) return candidate;
  }
  throw new Error('nginx is not installed: apt-get install -y nginx-light (or nginx)');
}

function config(dir: string, o: Required<Pick<TlsProxyOptions, 'upstream'>> & { port: number; certs: TestCertificates; requireClientCert: boolean }) {
  const p = (f: string) => path.join(dir, f);
  return `# Written by test/helpers/tls-search-proxy.ts
daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${p('nginx.pid')};
error_log ${p('error.log')} info;
events { worker_connections 256; }
http {
  access_log ${p('access.log')};
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};
  client_max_body_size 64m;
  server {
    listen 127.0.0.1:${o.port} ssl;
    listen 127.0.0.2:${o.port} ssl;
    ssl_certificate ${o.certs.serverCert};
    ssl_certificate_key ${o.certs.serverKey};
${o.requireClientCert ? `    ssl_client_certificate ${o.certs.caCert};\n    ssl_verify_client on;\n` : ''}    auth_basic "outboxctl test proxy";
    auth_basic_user_file ${p('htpasswd')};
    location / {
      proxy_pass ${o.upstream.replace(/\/+$/, '')};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "";
      proxy_read_timeout 120s;
    }
  }
}
`;
}

/** Resolves once the proxy completes a TLS handshake; rejects with nginx's error log otherwise. */
export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const dir = options.dir;
  await mkdir(path.join(dir, 'tmp'), { recursive: true });
  const certs = options.certs ?? (await makeTestCertificates(path.join(dir, 'certs')));
  const username = options.username ?? 'elastic';
  const password = options.password ?? 'proxy-pass-1';
  const port = options.port ?? (await freePort());
  const { stdout: hash } = await execa('openssl', ['passwd', '-apr1', password]);
  await writeFile(path.join(dir, 'htpasswd'), `${username}:${hash.trim()}\n`, { mode: 0o644 });
  const conf = path.join(dir, 'nginx.conf');
  await writeFile(conf, config(dir, { upstream: options.upstream, port, certs, requireClientCert: options.requireClientCert ?? false }));

  const child: ChildProcess = spawn(await nginxBinary(), ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c) => (stderr += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logTail = async (lines = 30) =>
    `${stderr}${await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')}`.trimEnd().split('\n').slice(-lines).join('\n');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGQUIT');
    if (await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)])) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${await logTail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not accept TLS on 127.0.0.1:${port} within 20s:\n${await logTail()}`);
    }
    await sleep(100);
  }

  const target: HttpTarget = {
    url: `https://127.0.0.1:${port}`,
    basic: { username, password },
    tls: { caFile: certs.caCert, ...(options.requireClientCert ? { certFile: certs.clientCert, keyFile: certs.clientKey } : {}) },
  };
  return { url: target.url, mismatchedUrl: `https://127.0.0.2:${port}`, port, username, password, certs, target, logTail, stop };
}

/** The proxy in front of a search engine (the name issue 16's tests use). */
export const startTlsSearchProxy = (options: TlsProxyOptions & { upstream: string }) => startTlsProxy(options);
