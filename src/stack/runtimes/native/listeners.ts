/**
 * Pids listening on a TCP port, from `ss`; `-1` stands for a listener whose owner `ss` may not
 * show (another user's process); undefined when `ss` cannot tell at all.
 */
export async function listenerPids(port: number): Promise<number[] | undefined> {
  const { execa } = await import('execa');
  const result = await execa('ss', ['-H', '-l', '-t', '-n', '-p', `sport = :${port}`], { reject: false });
  if (result.exitCode !== 0) return undefined;
  return result.stdout
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
      return pids.length ? pids : [-1];
    });
}
