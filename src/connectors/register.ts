import type { ConnectClient, ConnectorPlugin, ConnectorStatus } from '../clients/connect.js';
import { UserError } from '../lib/errors.js';
import { type ConfigChange, diffConfig } from './config-diff.js';
import type { ConnectorSpec } from './spec.js';
import { type FieldError, fieldErrors, findPlugin } from './status.js';
import { waitForState } from './wait.js';

export type RegisterAction = 'created' | 'updated' | 'unchanged' | 'would-create' | 'would-update' | 'skipped';

export interface RegisterOutcome {
  name: string;
  file: string;
  connectorClass: string;
  action: RegisterAction;
  changes: ConfigChange[];
  /** After the wait (or as Connect reported it when not waiting). */
  status?: ConnectorStatus;
  /** Why it was skipped. */
  reason?: string;
}

export interface RegisterOptions {
  /** Show what would change; change nothing. */
  diff: boolean;
  wait: boolean;
  waitTimeoutMs: number;
  /** Skip (with a warning) files whose plugin is not installed instead of failing: the default file set. */
  skipMissingPlugins: boolean;
  onProgress?: (message: string) => void;
  onWarning?: (message: string) => void;
}

/** Why a spec cannot be registered here: its plugin is missing; names every installed one. */
export function missingPluginReason(spec: ConnectorSpec, url: string, plugins: ConnectorPlugin[]): string {
  const installed = plugins.map((p) => p.class).sort();
  return `its plugin ${spec.config['connector.class']} is not installed on Kafka Connect at ${url} (installed: ${installed.length ? installed.join(', ') : 'none'})`;
}

/** One sentence: the connector, its file, the missing plugin and the installed ones. */
export function missingPluginError(spec: ConnectorSpec, url: string, plugins: ConnectorPlugin[]): UserError {
  return new UserError('CONNECTOR_PLUGIN_MISSING', `Cannot register "${spec.name}" (${spec.file}): ${missingPluginReason(spec, url, plugins)}.`, {
    hint: 'Install the plugin on the worker (plugin.path), or register only files whose plugins are installed.',
  });
}

/** One readable line per invalid field: `plugin.name: Value must be one of decoderbufs, pgoutput`. */
export function fieldErrorLines(errors: FieldError[]): string[] {
  return errors.map((e) => `${e.field}: ${e.message}`);
}

/** Checks every spec (installed plugin, then Connect's own validation) before anything is changed. */
async function checkAll(
  client: ConnectClient,
  specs: ConnectorSpec[],
  options: RegisterOptions,
): Promise<{ ready: { spec: ConnectorSpec; plugin: ConnectorPlugin }[]; skipped: RegisterOutcome[] }> {
  const plugins = await client.plugins();
  const ready: { spec: ConnectorSpec; plugin: ConnectorPlugin }[] = [];
  const skipped: RegisterOutcome[] = [];
  for (const spec of specs) {
    const plugin = findPlugin(spec.config['connector.class']!, plugins);
    if (plugin) {
      ready.push({ spec, plugin });
      continue;
    }
    if (!options.skipMissingPlugins) throw missingPluginError(spec, client.url, plugins);
    const reason = missingPluginReason(spec, client.url, plugins);
    options.onWarning?.(`skipped "${spec.name}" (${spec.file}): ${reason}.`);
    skipped.push({ name: spec.name, file: spec.file, connectorClass: spec.config['connector.class']!, action: 'skipped', changes: [], reason });
  }
  const invalid: { spec: ConnectorSpec; errors: FieldError[] }[] = [];
  for (const { spec, plugin } of ready) {
    options.onProgress?.(`validating ${spec.name} (${spec.file})`);
    const errors = fieldErrors(await client.validate(plugin.class, spec.config));
    if (errors.length) invalid.push({ spec, errors });
  }
  if (invalid.length) {
    const what = invalid.map((i) => `${[...new Set(i.errors.map((e) => e.field))].join(', ')} of "${i.spec.name}" (${i.spec.file})`).join('; ');
    throw new UserError('CONNECTOR_INVALID', `Kafka Connect rejected ${what}; nothing was registered.`, {
      details: invalid.flatMap((i) => fieldErrorLines(i.errors).map((line) => (invalid.length > 1 ? `${i.spec.name}: ${line}` : line))),
      hint: "Fix these settings in the file; `outboxctl connectors validate FILE` shows each one's error without registering anything.",
    });
  }
  return { ready, skipped };
}

/**
 * Validates every file first, then creates or updates each connector whose config differs
 * (an unchanged one is not sent), then waits until each runs. With `diff`, only reports.
 */
export async function registerConnectors(client: ConnectClient, specs: ConnectorSpec[], options: RegisterOptions): Promise<RegisterOutcome[]> {
  const { ready, skipped } = await checkAll(client, specs, options);
  const outcomes: RegisterOutcome[] = [];
  for (const { spec, plugin } of ready) {
    const current = await client.getConfig(spec.name);
    const changes = diffConfig(current, spec.config);
    const base = { name: spec.name, file: spec.file, connectorClass: plugin.class, changes };
    if (changes.length === 0) outcomes.push({ ...base, action: 'unchanged' });
    else if (options.diff) outcomes.push({ ...base, action: current ? 'would-update' : 'would-create' });
    else {
      options.onProgress?.(`${current ? 'updating' : 'creating'} ${spec.name}`);
      const { created } = await client.putConfig(spec.name, spec.config);
      outcomes.push({ ...base, action: created ? 'created' : 'updated' });
    }
  }
  if (!options.diff) {
    for (const outcome of outcomes) {
      if (!options.wait) {
        outcome.status = await client.status(outcome.name);
        continue;
      }
      const started = Date.now();
      outcome.status = await waitForState(client, outcome.name, 'RUNNING', {
        timeoutMs: options.waitTimeoutMs,
        // A changed config restarts the tasks: RUNNING must hold a moment to count.
        settleMs: outcome.action === 'unchanged' ? 0 : 1_500,
        onProgress: (summary) => options.onProgress?.(`${outcome.name}: ${summary}`),
      });
      if (outcome.status.connector.state === 'RUNNING') options.onProgress?.(`${outcome.name} is RUNNING (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      else options.onWarning?.(`${outcome.name} is ${outcome.status.connector.state}; \`outboxctl connectors resume ${outcome.name}\` runs it again.`);
    }
  }
  return [...outcomes, ...skipped];
}
