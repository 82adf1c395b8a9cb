import net from 'node:net';

/** True when nothing listens on host:port and we may bind it. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS considers free right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The preferred port when free, else any free one; says which it took. */
export async function choosePort(preferred: number[], host = '127.0.0.1'): Promise<{ port: number; replaced: boolean }> {
  for (const port of preferred) {
    if (await isPortFree(port, host)) return { port, replaced: port !== preferred[0] };
  }
  return { port: await freePort(host), replaced: true };
}

/** Who listens on a TCP port, as `ss` reports it ("postgres (pid 123)"); undefined when unknown. */
export async function portHolder(port: number): Promise<string | undefined> {
  const { execa } = await import('execa');
  const result = await execa('ss', ['-H', '-l', '-t', '-n', '-p', `sport = :${port}`], { reject: false });
  if (result.exitCode !== 0) return undefined;
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(result.stdout);
  return match ? `${match[1]} (pid ${match[2]})` : result.stdout.trim() ? 'another process' : undefined;
}
