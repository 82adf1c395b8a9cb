import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ContextTargets } from '../../lib/config.js';
import { UserError } from '../../lib/errors.js';
import { renderTable } from '../../lib/table.js';
import { engineName, recordedSearchEngine } from '../../stack/components/elasticsearch.js';
import { type ServiceStatus, stackStatus } from '../../stack/lifecycle.js';
import type { StackPaths } from '../../stack/paths.js';
import { readState } from '../../stack/state.js';
import type { CommandContext } from '../context.js';

const mb = (bytes: number | null) => (bytes === null ? '' : `${Math.round(bytes / 2 ** 20)} MiB`);
const uptime = (s: number | null) => (s === null ? '' : s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`);

/** The stacks under the home: every directory of `stacks/`, as `outboxctl stacks` lists them. */
async function stackNames(home: string): Promise<string[]> {
  const entries = await readdir(path.join(home, 'stacks'), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * A stack exists once a command has made its directory (`up` does, even one that failed): a name
 * with none is a typo or a stack not created yet, not a stack whose services are all stopped.
 */
async function requireStack(paths: StackPaths): Promise<void> {
  const isDirectory = await stat(paths.dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDirectory) return;
  const others = await stackNames(paths.home);
  if (others.length === 0) {
    throw new UserError('NO_SUCH_STACK', `There is no stack "${paths.name}" under ${paths.home} yet.`, {
      hint: `\`outboxctl ${paths.name === 'default' ? '' : `--stack ${paths.name} `}up\` creates it.`,
    });
  }
  throw new UserError('NO_SUCH_STACK', `There is no stack "${paths.name}" under ${paths.home}; its stacks are ${others.join(', ')}.`, {
    hint: `Pick one with --stack (or OUTBOXCTL_STACK); \`outboxctl --stack ${paths.name} up\` creates this one.`,
  });
}

export default async function run(ctx: CommandContext): Promise<number> {
  if (ctx.context) return contextStatus(ctx, ctx.context);
  await requireStack(ctx.stack);
  const status = await stackStatus(ctx.stack);
  const allReady = status.services.every((s) => s.state === 'ready');
  // Which engine runs as service elasticsearch (its VERSION says which release answered).
  const state = await readState(ctx.stack);
  const searchEngine = (state && recordedSearchEngine(state)) ?? null;
  if (ctx.json) ctx.out.document({ ...status, searchEngine });
  else {
    const c = ctx.out.color;
    const paint = (s: ServiceStatus) => (s.state === 'ready' ? c.green(s.state) : s.state === 'stopped' ? c.dim(s.state) : c.red(s.state));
    ctx.out.result(
      renderTable(status.services, [
        { header: 'SERVICE', value: (s) => s.name },
        { header: 'STATE', value: paint },
        { header: 'ID', value: (s) => s.id },
        { header: 'PORT', value: (s) => s.port },
        { header: 'VERSION', value: (s) => s.version },
        ...(status.services.some((s) => s.image) ? [{ header: 'IMAGE', value: (s: ServiceStatus) => s.image }] : []),
        { header: 'UPTIME', value: (s) => uptime(s.uptimeSeconds) },
        { header: 'MEMORY', value: (s) => mb(s.rssBytes) },
      ]) +
        (status.sink
          ? `\nsink: ${status.sink === 'embedded' ? 'embedded (service sink reads es-sink-connector.json)' : 'connect (connector elasticsearch-sink)'}`
          : '') +
        (searchEngine ? `\nsearch engine: ${engineName(searchEngine)} (service elasticsearch)` : ''),
    );
  }
  return ctx.flags.check === true && !allReady ? 1 : 0;
}

/** `status` on a context: every endpoint it names, asked now; no stack state is read. */
async function contextStatus(ctx: CommandContext, context: ContextTargets): Promise<number> {
  const { probeContext } = await import('../../contexts/probe.js');
  const endpoints = await probeContext(context, { flags: ctx.flags, env: ctx.io.env });
  const allReachable = endpoints.every((e) => e.reachable);
  const c = ctx.out.color;
  ctx.out.print({ schemaVersion: 1, context: context.name, reachable: allReachable, endpoints }, () =>
    [
      renderTable(endpoints, [
        { header: 'ENDPOINT', value: (e) => e.name },
        { header: 'STATE', value: (e) => (e.reachable ? c.green('reachable') : c.red('unreachable')) },
        { header: 'ADDRESS', value: (e) => e.address },
        { header: 'AUTH', value: (e) => e.auth },
        { header: 'VERSION', value: (e) => e.version ?? '' },
      ]),
      ...endpoints.filter((e) => e.error).map((e) => `${e.name}: ${e.error!.message}`),
    ].join('\n'),
  );
  return ctx.flags.check === true && !allReachable ? 1 : 0;
}
