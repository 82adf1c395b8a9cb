import { redactUrl } from '../../lib/config.js';
import { parseDuration } from '../../lib/duration.js';
import { UsageError } from '../../lib/errors.js';
import { renderTable } from '../../lib/table.js';
import { parseSearchEngine } from '../../stack/components/elasticsearch.js';
import { parseServices } from '../../stack/components/index.js';
import { numberSteps } from '../../stack/plan.js';
import { parseRuntimeChoice, type UpEvents, type UpResult, up, withImageOverrides } from '../../stack/up.js';
import { plainUpEvents } from '../../ui/plain-progress.js';
import { type CommandContext, refuseOnContext } from '../context.js';

/** ink on an interactive terminal; plain lines on pipes, in CI and with --json. */
async function progressFor(ctx: CommandContext): Promise<{ events: UpEvents; done(): void }> {
  const tty = Boolean(ctx.io.stderr.isTTY) && !ctx.io.env.CI && !ctx.json && ctx.io.stderr === process.stderr;
  if (!tty) return { events: plainUpEvents(ctx.out), done: () => undefined };
  const { inkUpEvents } = await import('../../ui/up-view.js');
  return inkUpEvents();
}

export default async function run(ctx: CommandContext): Promise<void> {
  refuseOnContext(ctx, 'up');
  const { flags, out } = ctx;
  const runtime = parseRuntimeChoice(flags.runtime);
  const waitTimeoutMs = parseDuration(String(flags.waitTimeout ?? '180s'), '--wait-timeout');
  const services = parseServices(flags.services as string | undefined);
  const dryRun = flags.dryRun === true;
  const searchEngine = parseSearchEngine(flags.searchEngine);
  const sink = String(flags.sink ?? 'auto');
  if (!['auto', 'connect', 'embedded'].includes(sink)) throw new UsageError(`--sink "${sink}" is not one of auto, connect, embedded.`);
  const partitions = flags.partitions === undefined ? undefined : Number(flags.partitions);
  if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1))
    throw new UsageError(`--partitions "${String(flags.partitions)}" is not a positive whole number.`);
  const progress = dryRun ? { events: {}, done: () => undefined } : await progressFor(ctx);
  let result: UpResult;
  try {
    result = await up({
      paths: ctx.stack,
      env: withImageOverrides(ctx.io.env, flags.image),
      services,
      runtime,
      waitTimeoutMs,
      strictPorts: flags.strictPorts === true,
      host: flags.host as string | undefined,
      token: flags.token === true,
      dryRun,
      sink: sink as 'auto' | 'connect' | 'embedded',
      partitions,
      searchEngine,
      cwd: ctx.io.cwd,
      events: progress.events,
    });
  } finally {
    progress.done();
  }
  if (ctx.json) {
    // As `status --json`: the endpoints as flags would name them, the database password masked.
    out.document({ ...result, endpoints: Object.fromEntries(Object.entries(result.endpoints).map(([k, v]) => [k, v && redactUrl(v)])) });
    return;
  }
  if (dryRun) {
    out.result(numberSteps(result.steps, { partitions }).join('\n'));
    return;
  }
  if (result.alreadyReady) {
    out.result(
      `Stack "${result.stack}" is already up: ${result.steps
        .map((s) => (s.kind === 'service' ? s.service : ''))
        .filter(Boolean)
        .join(', ')} ready; nothing changed.`,
    );
    return;
  }
  out.result(
    renderTable(Object.entries(result.endpoints), [
      { header: 'ENDPOINT', value: ([name]) => name },
      { header: 'URL', value: ([, url]) => redactUrl(url ?? '') },
    ]),
  );
}
