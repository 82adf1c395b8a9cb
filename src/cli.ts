import { Command, CommanderError, Option } from 'commander';
import type { Handler } from './commands/context.js';
import { ENDPOINTS, type EndpointName, TOKEN_ENV } from './lib/config.js';
import { type Io, processIo } from './lib/io.js';
import { versionText } from './versions.js';

// Only what building the command tree needs is imported here: `--help` and a usage error load no
// handler, no colour (chalk), no logger (debug); each is imported when a command or an error needs it.

type Loader = () => Promise<{ default: Handler }>;

interface Run {
  exitCode: number;
}

function endpointOption(cmd: Command, name: EndpointName, description: string): Command {
  const spec = ENDPOINTS[name];
  return cmd.addOption(new Option(`${spec.flag} <url>`, `${description} (env ${spec.env})`));
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `--token`: the bearer token a server requires (serve) or that a client sends (parcel, audit, smoke). */
const tokenOption = (cmd: Command, description: string): Command => cmd.option('--token <token>', `${description} (env ${TOKEN_ENV})`);

/**
 * The Node.js that runs the CLI, aligned with the component lines: PATH decides which one
 * `#!/usr/bin/env node` finds, and a bug report needs to say which.
 */
/** Commander's collector for an option given more than once. */
const repeatable = (value: string, all: string[]) => [...all, value];

function runtimeVersionLine(): string {
  return `  ${'node'.padEnd(9)} ${process.version}`;
}

/** Builds the command tree; every handler is imported only when its command runs. */
export function buildProgram(io: Io, run: Run): Command {
  const program = new Command('outboxctl');
  const action = (load: Loader, options: { selectContext?: boolean } = {}) =>
    async function (this: Command, ...args: unknown[]) {
      const flags = this.optsWithGlobals();
      if (flags.verbose) (await import('./lib/logger.js')).enableVerboseLogging();
      const positional = args.slice(0, this.registeredArguments.length).flatMap((a) => (Array.isArray(a) ? a : a === undefined ? [] : [String(a)]));
      // The handler's module loads while the context is made (both are imports first).
      const handlerModule = load();
      handlerModule.catch(() => undefined);
      const { createContext } = await import('./commands/context.js');
      const ctx = await createContext(io, flags, options);
      const { default: handler } = await handlerModule;
      const code = await handler(ctx, ...positional);
      run.exitCode = typeof code === 'number' ? code : 0;
    };

  program
    .description('Run and inspect a transactional-outbox stack: PostgreSQL → Debezium → Kafka → Elasticsearch.')
    .version(`${versionText()}\n${runtimeVersionLine()}`, '-V, --version', 'print the version of outboxctl, of the components it pins and of Node.js')
    .option('--stack <name>', 'stack to work on (env OUTBOXCTL_STACK)', undefined)
    .option('--context <name>', 'remote environment to work on instead of a local stack; `local`: none (env OUTBOXCTL_CONTEXT)')
    .option('--verbose', 'log details and show stacks of errors (or DEBUG=outboxctl:*)')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false, visibleCommands: listCommands })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Errors are rendered by main() so they honour --json.
      outputError: () => undefined,
    });

  program
    .command('up')
    .description('start the stack (or what of it is down) and wait until every service is ready')
    .option('--runtime <runtime>', 'auto | native | docker', 'auto')
    .option('--services <list>', 'only these services (and what they need), comma-separated')
    .option('--wait-timeout <duration>', 'readiness deadline per service', '180s')
    .option('--strict-ports', 'fail when a port is taken instead of using a free one')
    .option('--host <address>', 'address every service binds (default: as before, else 127.0.0.1)')
    .option(
      '--token',
      'tracking and auditing demand a bearer token generated for the stack (secrets.token in its state file); once on, it stays on until `down --volumes`',
    )
    .option('--sink <sink>', 'who indexes parcel.outbox: auto | connect (the Confluent plugin) | embedded', 'auto')
    .option('--partitions <n>', 'partitions of parcel.outbox when up creates it (default 1)')
    .option(
      '--search-engine <engine>',
      'what runs as service elasticsearch: elasticsearch (7.10.2) | opensearch (2.19, native runtime); default: what the stack runs, else elasticsearch',
    )
    .option('--image <service=ref>', 'Docker runtime: run this image (or build this directory) for a service; repeatable', repeatable, [])
    .option('--dry-run', 'print the steps up would take, and take none')
    .option('--json', 'print one JSON document at the end')
    .action(action(() => import('./commands/stack/up.js')));
  program
    .command('down')
    .description('stop every service of the stack, in reverse order')
    .option('--volumes', 'also delete the data (replication slots are dropped first)')
    .option('--json', 'print one JSON document')
    .action(action(() => import('./commands/stack/down.js')));
  program
    .command('status')
    .description('one row per service: state, pid, port, version, uptime, memory')
    .option('--json', 'print one JSON document (versioned schema)')
    .option('--check', 'exit 1 unless every service is ready')
    .action(action(() => import('./commands/stack/status.js')));
  program
    .command('logs')
    .description('show the logs of one service, or of all interleaved')
    .argument('[service...]', 'services (default: all)')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--tail <n>', 'only the last N lines of each log')
    .action(action(() => import('./commands/stack/logs.js')));
  program
    .command('exec')
    .description("run a command in a service's environment (its container, or natively with its tools and settings), as docker compose exec")
    .usage('[options] <service> -- <command...>')
    .argument('<service>', 'service to run it in')
    .argument('[command...]', 'the command and its arguments, after --')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        "  outboxctl exec postgres -- psql -c 'select 1'        # PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE are set",
        '  outboxctl exec kafka -- kafka-topics.sh --list        # --bootstrap-server is added when none is given',
        '  outboxctl exec kafka -- kafka-console-consumer.sh --topic parcel.outbox --from-beginning',
      ].join('\n'),
    )
    .action(action(() => import('./commands/stack/exec.js')));
  program
    .command('restart')
    .description('stop and start services again, waiting until they are ready')
    .argument('<service...>', 'services')
    .option('--json', 'print one JSON document')
    .action(action(() => import('./commands/stack/restart.js')));
  program
    .command('stop')
    .description('stop services (gracefully, then forcibly)')
    .argument('<service...>', 'services')
    .option('--json', 'print one JSON document')
    .action(action(() => import('./commands/stack/stop.js')));
  program
    .command('stacks')
    .description('every stack under the home, with its runtime and what runs')
    .option('--json', 'print one JSON document')
    .action(action(() => import('./commands/stack/stacks.js')));
  program
    .command('doctor')
    .description('check Node, Java, Maven, ports, disk and a Docker engine, with the fix for each')
    .option('--json', 'print one JSON document')
    .action(action(() => import('./commands/stack/doctor.js')));
  program
    .command('smoke')
    .description(
      "prove the whole outbox flow in one command (for CI): up or the running stack (or a context's deployed pipeline), the seed's request, named timed steps",
    )
    .option('--runtime <runtime>', 'auto | native | docker, when smoke brings the stack up (default auto; not under a context)')
    .option('--image <service=ref>', 'Docker runtime: run this image (or build this directory) for a service; repeatable', repeatable, [])
    .option('--keep', 'leave running what smoke started (default: stop it again)')
    .option('--report <file>', 'write a report: FILE.json (JSON) or FILE.xml (JUnit XML)')
    .option('--timeout <duration>', 'deadline of the whole run', '300s')
    .option('--json', 'print the report as one JSON document')
    .option('--token <token>', `bearer token for the tracking and auditing servers (env ${TOKEN_ENV}; default: the context's or the stack's)`)
    .action(action(() => import('./commands/smoke.js')));
  const verify = program
    .command('verify')
    .description('reconcile outbox rows, records on the topic and indexed documents by event id, and the parcels index; exit 1 when not consistent')
    .option('--since <duration>', 'only events of the last DURATION (10m, 2h) or since a timestamp (default: from the beginning)')
    .option('--from-beginning', 'every event the stores still hold (the default)')
    .option('--settle <duration>', 'how long to wait for in-flight events before judging', '30s')
    .option('--topic <topic>', 'the outbox topic', 'parcel.outbox')
    .option('--events-index <index>', "the events index (default: the sink's, the topic in lower case)")
    .option('--parcels-index <index>', 'the parcel projection index', 'parcels')
    .option('--group <group>', "the sink's consumer group (default: connect-<name of the sink connector file>)")
    .option('--slot <slot>', "Debezium's replication slot (default: the stack's; for --database-url, the database's only logical slot)")
    .option('--json', 'print one JSON document (docs/verify.md)');
  endpointOption(verify, 'database', "PostgreSQL instead of the stack's");
  endpointOption(verify, 'kafka', "Kafka bootstrap servers instead of the stack's");
  endpointOption(verify, 'elasticsearch', "Elasticsearch instead of the stack's");
  verify.action(action(() => import('./commands/verify.js')));
  program
    .command('fetch')
    .description('resolve every artifact (Kafka, Connect, Debezium) ahead of time, for offline use and CI caches')
    .option('--json', 'print one JSON document')
    .action(action(() => import('./commands/stack/fetch.js')));

  const contexts = program
    .command('context')
    .description("remote environments (kcctl's contexts, rpk's profiles): endpoints with their auth, in $XDG_CONFIG_HOME/outboxctl/config.yaml")
    .exitOverride();
  const contextCommand = (name: string, description: string, load: Loader) =>
    contexts
      .command(name)
      .description(description)
      .action(action(load, { selectContext: false }));
  addContextFlags(
    contextCommand(
      'create',
      'create a context (secrets as env:VAR or file:PATH; a literal is stored, with a warning)',
      () => import('./commands/contexts/create.js'),
    ).argument('<name>', 'context name (letters, digits, ".", "_", "-"; not "local")'),
  )
    .option('--use', 'make it the current context')
    .option('--force', 'replace a context of that name');
  contextCommand('use', 'make a context current (`local`: none, the local stack)', () => import('./commands/contexts/use.js')).argument(
    '<name>',
    'context name',
  );
  contextCommand('list', 'every context, the current one marked', () => import('./commands/contexts/list.js')).option('--json', 'print one JSON document');
  contextCommand('show', 'a context with its secrets masked (default: the selected one)', () => import('./commands/contexts/show.js'))
    .argument('[name]', 'context name')
    .option('--json', 'print one JSON document');
  contextCommand('delete', 'delete a context', () => import('./commands/contexts/delete.js')).argument('<name>', 'context name');

  const topic = program.command('topic').description('Kafka topics: create, list, describe, delete, produce, tail (never auto-created)').exitOverride();
  const topicCommand = (name: string, description: string) => {
    const cmd = topic.command(name).description(description).option('--json', 'print one JSON document');
    return endpointOption(cmd, 'kafka', "Kafka bootstrap servers instead of the stack's");
  };
  topicCommand('create', "create a topic (as the seed's kafka-topics --create)")
    .argument('<name>', 'topic name')
    .option('-p, --partitions <n>', 'number of partitions', '1')
    .option('-r, --replication-factor <n>', 'replication factor', '1')
    .option('-c, --config <key=value>', 'topic config, repeatable', collect)
    .option('--if-not-exists', 'an existing topic is not an error')
    .action(action(() => import('./commands/topic/create.js')));
  topicCommand('list', 'list topics with partitions and replicas')
    .option('-i, --internal', 'include internal topics (__consumer_offsets, …)')
    .action(action(() => import('./commands/topic/list.js')));
  topicCommand('describe', 'partitions, leaders, low/high offsets and configs of a topic')
    .argument('<name>', 'topic name')
    .action(action(() => import('./commands/topic/describe.js')));
  topicCommand('delete', 'delete topics')
    .argument('<name...>', 'topic names')
    .option('--if-exists', 'missing topics are not an error')
    .action(action(() => import('./commands/topic/delete.js')));

  topicCommand('produce', 'write records: --value, or one record per line of stdin')
    .argument('<name>', 'topic name')
    .option('-k, --key <key>', 'record key (for --value, or every stdin line)')
    .option('-H, --header <key=value>', 'record header, repeatable', collect)
    .option('--value <text>', 'one record with this value (otherwise: lines from stdin)')
    .option('--key-separator <sep>', 'stdin lines are KEY<sep>VALUE')
    .option('--partition <n>', 'write to this partition (default: by key)')
    .action(action(() => import('./commands/topic/produce.js')));
  topicCommand('tail', "print records, as the seed's kafka-console-consumer (follows until Ctrl-C)")
    .argument('<name>', 'topic name')
    .option('--from-beginning', 'start at the earliest record (same as --offset start)')
    .option('-o, --offset <where>', 'start|end|N|-N (-N: the last N of each partition)')
    .option('--since <time>', 'start at a timestamp (2026-11-26T10:00:00Z) or a duration ago (-15m, 2h)')
    .option('-n, --count <n>', 'stop after N records')
    .option('-e, --exit', 'stop at the end of every partition as it was at the start')
    .option('--print-key', 'print KEY<tab>VALUE (raw format)')
    .option('-f, --format <format>', "raw | json | a template like '%k %v %p %o %T %h'", 'raw')
    .option('--pretty', 'indent JSON values')
    .option('-g, --group <group>', 'consume as this group and commit (default: no group, no commits)')
    .option('--unwrap', 'print the outbox event (id, type, aggregate id, time, payload) of each record')
    .option('--aggregate <id>', 'only the records of this aggregate (the record key; the parcel id)')
    .action(action(() => import('./commands/topic/tail.js')));

  const group = program.command('group').description('Kafka consumer groups: members, committed offsets, lag; reset offsets').exitOverride();
  const groupCommand = (name: string, description: string) => {
    const cmd = group.command(name).description(description).option('--json', 'print one JSON document');
    return endpointOption(cmd, 'kafka', "Kafka bootstrap servers instead of the stack's");
  };
  groupCommand('list', 'consumer groups with state and protocol').action(action(() => import('./commands/group/list.js')));
  groupCommand('describe', 'members, committed offset and lag per partition')
    .argument('<group>', 'group id')
    .action(action(() => import('./commands/group/describe.js')));
  groupCommand('reset-offsets', "move a group's committed offsets (a dry run unless --execute)")
    .argument('<group>', 'group id')
    .requiredOption('--topic <topic>', 'topic whose offsets move')
    .option('--to-earliest', 'to the earliest offset of each partition')
    .option('--to-latest', 'to the end of each partition')
    .option('--to-offset <n>', 'to this offset in every partition')
    .option('--execute', 'apply the change (default: only print it)')
    .action(action(() => import('./commands/group/reset-offsets.js')));

  const connectors = program.command('connectors').description('Kafka Connect connectors: register from files, inspect, restart, pause, delete').exitOverride();
  const connectorsCommand = (name: string, description: string) => {
    const cmd = connectors.command(name).description(description).option('--json', 'print one JSON document');
    return endpointOption(cmd, 'connect', "Kafka Connect REST URL instead of the stack's");
  };
  connectorsCommand('register', 'validate, create or update, and wait until RUNNING (default: every file of kafka-connectors/)')
    .argument('[file...]', 'connector files ({"name", "config"}, ${VAR} placeholders)')
    .option('--diff', 'print what would change, and change nothing')
    .option('--no-wait', 'do not wait for the connector and its tasks to run')
    .option('--wait-timeout <duration>', 'how long to wait for RUNNING', '120s')
    .action(action(() => import('./commands/connectors/register.js')));
  connectorsCommand('list', 'connectors with their state and task states').action(action(() => import('./commands/connectors/list.js')));
  connectorsCommand('status', 'config (passwords masked), tasks, workers and traces of a connector')
    .argument('<name>', 'connector name')
    .action(action(() => import('./commands/connectors/status.js')));
  connectorsCommand('delete', "delete connectors (the seed's curl -X DELETE)")
    .argument('<name...>', 'connector names')
    .option('--if-exists', 'missing connectors are not an error')
    .action(action(() => import('./commands/connectors/delete.js')));
  connectorsCommand('restart', 'restart a connector (and its tasks)')
    .argument('<name>', 'connector name')
    .option('--include-tasks', 'restart its tasks too')
    .option('--only-failed', 'only what is FAILED')
    .action(action(() => import('./commands/connectors/restart.js')));
  connectorsCommand('pause', 'pause a connector and its tasks')
    .argument('<name>', 'connector name')
    .action(action(() => import('./commands/connectors/pause.js')));
  connectorsCommand('resume', 'resume a paused connector')
    .argument('<name>', 'connector name')
    .action(action(() => import('./commands/connectors/resume.js')));
  connectorsCommand('validate', 'check a connector file against its plugin, field by field')
    .argument('<file>', 'connector file')
    .action(action(() => import('./commands/connectors/validate.js')));
  connectorsCommand('plugins', 'connector plugins installed on the worker').action(action(() => import('./commands/connectors/plugins.js')));
  connectorsCommand('offsets', 'the source or sink offsets of a connector')
    .argument('<name>', 'connector name')
    .action(action(() => import('./commands/connectors/offsets.js')));

  const audit = program.command('audit').description('query the auditing server: current parcels, histories, the event log, stats').exitOverride();
  const auditCommand = (name: string, description: string) => {
    const cmd = audit.command(name).description(description).option('--json', "print the server's JSON");
    tokenOption(cmd, "bearer token the server requires (default: the stack's)");
    return endpointOption(cmd, 'auditing', 'auditing server');
  };
  auditCommand('parcels', 'current parcels (GET /parcels), newest update first')
    .option('--status <status>', 'registered | in_transit | delivered | returned')
    .option('--q <text>', 'words of the contents')
    .option('--since <time>', 'updated at or after (ISO time)')
    .option('--until <time>', 'updated before (ISO time)')
    .option('--limit <n>', 'page size (1-500)')
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .action(action(() => import('./commands/audit/parcels.js')));
  auditCommand('history', 'every event of one parcel, in version order')
    .argument('<id>', 'parcel id')
    .action(action(() => import('./commands/audit/history.js')));
  auditCommand('events', 'the event log, oldest first')
    .option('--type <type>', 'ParcelCreated | ParcelUpdated')
    .option('--aggregate-id <id>', "one parcel's events")
    .option('--since <time>', 'at or after (ISO time)')
    .option('--until <time>', 'before (ISO time)')
    .option('--limit <n>', 'page size (1-500)')
    .option('--cursor <cursor>', 'the next page')
    .action(action(() => import('./commands/audit/events.js')));
  auditCommand('stats', 'events by type and over time, parcels by status')
    .option('--interval <interval>', '1m | 1h | 1d', '1h')
    .option('--since <time>', 'at or after (ISO time)')
    .option('--until <time>', 'before (ISO time)')
    .action(action(() => import('./commands/audit/stats.js')));

  const db = program.command('db').description("Flyway-compatible migrations on the stack's PostgreSQL (or --database-url)").exitOverride();

  const dbCommand = (name: string, description: string, json: boolean) => {
    const cmd = db.command(name).description(description);
    endpointOption(cmd, 'database', "PostgreSQL to use instead of the stack's own");
    cmd
      .option('--locations <dirs>', 'more migration directories, after the packaged db/migration (comma-separated, repeatable)', collect)
      .option('--no-default-locations', 'leave out the packaged migrations (parcel, outbox): only --locations')
      .option('--schema <name>', "schema of the history table (default: the connection's current schema)")
      .option('--table <name>', 'history table name', undefined);
    if (json) cmd.option('--json', 'print one JSON document');
    return cmd;
  };

  dbCommand('migrate', 'apply pending migrations, each in its own transaction', true).action(action(() => import('./commands/db/migrate.js')));
  dbCommand('info', 'show every migration and its state, as flyway info does', true).action(action(() => import('./commands/db/info.js')));
  dbCommand('validate', 'check applied migrations against the files; exit 1 when invalid', true).action(action(() => import('./commands/db/validate.js')));
  dbCommand('repair', 'remove failed entries, realign checksums, mark missing migrations deleted', true)
    .option('--dry-run', 'print the SQL repair would run, and run nothing')
    .action(action(() => import('./commands/db/repair.js')));
  dbCommand('baseline', 'mark an existing database as being at a version', true)
    .option('--baseline-version <version>', 'version to baseline at', '1')
    .option('--baseline-description <text>', 'description of the baseline row', '<< Flyway Baseline >>')
    .action(action(() => import('./commands/db/baseline.js')));
  db.command('checksum')
    .description('print the checksum Flyway would store for a script')
    .argument('<file...>', 'migration scripts')
    .option('--json', 'print one JSON document')
    .action(action(() => import('./commands/db/checksum.js')));

  dbCommand('prune-outbox', 'delete outbox rows older than a duration (rows Debezium has long read)', true)
    .requiredOption('--older-than <duration>', 'age of the rows to delete, e.g. 7d, 12h')
    .option('--dry-run', 'count the rows, delete nothing')
    .action(action(() => import('./commands/db/prune-outbox.js')));

  const serve = program.command('serve').description('run one of the embedded servers in the foreground').exitOverride();
  const tracking = serve
    .command('tracking')
    .description('the tracking server: parcels and their outbox events, in one transaction')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--outbox-delete-after-insert', 'delete each outbox row in the same transaction (env OUTBOX_DELETE_AFTER_INSERT=true)')
    .option('--no-migrate', 'do not apply pending migrations at start')
    .addOption(new Option('--managed <stack-dir>', 'run as a service of `up` (the runtime records it)').hideHelp());
  endpointOption(tracking, 'database', "PostgreSQL to use instead of the stack's own");
  tokenOption(tracking, 'require this bearer token on every route but /health');
  tracking.action(action(() => import('./commands/serve/tracking.js')));

  const sink = serve
    .command('sink')
    .description("the embedded Elasticsearch sink: es-sink-connector.json's semantics without Connect's plugin")
    .option('--connector-file <file>', 'sink connector file (default: es-sink-connector.json of the connector directory)')
    .option('--port <port>', 'port of GET /health (0: any free port)', '8084')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--no-projection', 'only the event index, not the parcels index (current state per parcel)')
    .addOption(new Option('--managed <stack-dir>', 'run as a service of `up` (the runtime records it)').hideHelp());
  endpointOption(sink, 'kafka', "Kafka bootstrap servers instead of the stack's");
  sink.action(action(() => import('./commands/serve/sink.js')));

  const auditing = serve
    .command('auditing')
    .description("the auditing server: parcels, histories, events and stats from Elasticsearch (the seed's :5000)")
    .option('--port <port>', 'port to listen on (0: any free port)', '5000')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .addOption(new Option('--managed <stack-dir>', 'run as a service of `up` (the runtime records it)').hideHelp());
  endpointOption(auditing, 'elasticsearch', "Elasticsearch instead of the stack's");
  tokenOption(auditing, 'require this bearer token on every route but /health');
  auditing.action(action(() => import('./commands/serve/auditing.js')));

  const compose = program.command('compose').description('the stack as a Compose file, for plain `docker compose`').exitOverride();
  compose
    .command('export')
    .description('print the Compose file of the stack (or write it with --output); the same for every --stack')
    .option('-o, --output <file>', 'write it to FILE (atomically) instead of stdout')
    .action(action(() => import('./commands/compose/export.js')));

  const parcel = program.command('parcel').description('create, update and read parcels through the tracking server').exitOverride();
  const parcelCommand = (name: string, description: string) => {
    const cmd = parcel.command(name).description(description).option('--json', "print the server's JSON");
    tokenOption(cmd, "bearer token the server requires (default: the stack's)");
    return endpointOption(cmd, 'tracking', 'tracking server');
  };
  parcelCommand('create', 'create a parcel (POST /api/parcel)')
    .requiredOption('--contents <text>', 'what the parcel holds')
    .option('--idempotency-key <key>', 'retry-safe key: a repeat returns the first parcel')
    .action(action(() => import('./commands/parcel/create.js')));
  parcelCommand('update', "change a parcel's contents and/or status (PUT /api/parcel/ID)")
    .argument('<id>', 'parcel id')
    .option('--contents <text>', 'new contents')
    .option('--status <status>', 'registered | in_transit | delivered | returned')
    .option('--if-match <version>', 'only if the parcel is still at this version')
    .action(action(() => import('./commands/parcel/update.js')));
  parcelCommand('get', 'show one parcel')
    .argument('<id>', 'parcel id')
    .action(action(() => import('./commands/parcel/get.js')));
  parcelCommand('list', 'list parcels, newest first')
    .option('--limit <n>', 'page size (1-500)', undefined)
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .action(action(() => import('./commands/parcel/list.js')));

  return program;
}

/** `context create`'s flags: each endpoint and its auth (docs/contexts.md). SECRET: env:VAR, file:PATH or the secret itself. */
function addContextFlags(cmd: Command): Command {
  return cmd
    .option('--bootstrap-server <servers>', 'Kafka bootstrap servers, host:port[,host:port…]')
    .option('--kafka-tls', 'Kafka over TLS (implied by --kafka-ca, --kafka-cert, --kafka-key)')
    .option('--kafka-ca <file>', 'PEM file of the certificate authorities Kafka is checked against')
    .option('--kafka-cert <file>', 'PEM client certificate (mutual TLS; with --kafka-key)')
    .option('--kafka-key <file>', 'PEM key of the client certificate')
    .option('--kafka-no-verify-hostname', "do not check that Kafka's certificate names its host")
    .option('--kafka-sasl-mechanism <mechanism>', 'plain | scram-sha-256 | scram-sha-512')
    .option('--kafka-username <user>', 'SASL username')
    .option('--kafka-password <secret>', 'SASL password: env:VAR, file:PATH or the secret')
    .option('--connect-url <url>', 'Kafka Connect REST URL')
    .option('--connect-username <user>', 'Connect basic auth username')
    .option('--connect-password <secret>', 'Connect basic auth password: env:VAR, file:PATH or the secret')
    .option('--connect-ca <file>', 'PEM file of the certificate authorities Connect is checked against')
    .option('--elasticsearch-url <url>', 'Elasticsearch or OpenSearch URL')
    .option('--elasticsearch-username <user>', 'search engine basic auth username')
    .option('--elasticsearch-password <secret>', 'search engine basic auth password: env:VAR, file:PATH or the secret')
    .option('--elasticsearch-api-key <secret>', 'search engine API key (the base64 id:key): env:VAR, file:PATH or the key')
    .option('--elasticsearch-ca <file>', 'PEM file of the certificate authorities the search engine is checked against')
    .option('--database-url <url>', 'PostgreSQL URL (sslmode, sslrootcert as libpq reads them)')
    .option('--database-password <secret>', 'PostgreSQL password, when the URL has none: env:VAR, file:PATH or the secret')
    .option('--tracking-url <url>', 'tracking server URL')
    .option('--tracking-token <secret>', "tracking server's bearer token: env:VAR, file:PATH or the token")
    .option('--auditing-url <url>', 'auditing server URL')
    .option('--auditing-token <secret>', "auditing server's bearer token: env:VAR, file:PATH or the token");
}

/** The root help lists leaf commands by their full path (`db migrate`), each with its one line. */
function listCommands(this: void, cmd: Command): Command[] {
  if (cmd.parent) return cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  const leaves: Command[] = [];
  const walk = (c: Command, prefix: string) => {
    for (const sub of c.commands) {
      if (sub.commands.length > 0) {
        leaves.push(sub);
        walk(sub, `${prefix}${sub.name()} `);
      } else leaves.push(Object.assign(Object.create(sub) as Command, { _name: `${prefix}${sub.name()}` }));
    }
  };
  walk(cmd, '');
  return leaves;
}

const USAGE_CODES = new Set([
  'commander.unknownCommand',
  'commander.unknownOption',
  'commander.missingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.optionMissingArgument',
  'commander.invalidArgument',
  'commander.excessArguments',
  'commander.conflictingOption',
  'commander.help',
]);

/** Runs the CLI in-process and returns the exit code (tests call this directly). */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const run: Run = { exitCode: 0 };
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose');
  try {
    const program = buildProgram(io, run);
    await program.parseAsync(argv, { from: 'user' });
    return run.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'commander.help') return error.exitCode === 0 ? 0 : 2;
    }
    // Rendering an error needs colour and the error classes: loaded only now.
    const [{ Output }, { toCliError, UsageError }] = await Promise.all([import('./lib/output.js'), import('./lib/errors.js')]);
    const out = new Output(io, json);
    if (error instanceof CommanderError) {
      if (USAGE_CODES.has(error.code)) {
        const message = error.message.replace(/^error: /, '').split('\n')[0]!;
        const suggestion = /\(Did you mean (.+)\?\)/.exec(error.message)?.[1];
        out.error(
          new UsageError(`${message.replace(/\.$/, '')}.`, {
            hint: suggestion ? `Did you mean ${suggestion}? See \`outboxctl --help\`.` : 'See `outboxctl --help`.',
          }),
          false,
        );
        return 2;
      }
    }
    const cliError = toCliError(error);
    out.error(cliError, verbose);
    return cliError.exitCode;
  }
}

/** The launcher's entry: the only place that calls process.exit. */
export async function runCli(argv: string[]): Promise<never> {
  const exit = (code: number): never => process.exit(code);
  // A closed pipe (`| head`) ends the command quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') exit(0);
  });
  // Once interrupted, the exit code is 130 (143 for SIGTERM) whatever the command does next,
  // and the process ends only after the cleanups ran.
  let interrupted: { code: number; cleaned: Promise<void> } | undefined;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (interrupted) exit(interrupted.code);
      process.stderr.write(`\n${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: cleaning up\n`);
      const cleaned = import('./lib/interrupt.js').then(({ runInterruptCleanups }) => runInterruptCleanups());
      interrupted = { code, cleaned };
      void cleaned.finally(() => exit(code));
    });
  }
  const code = await main(argv);
  if (interrupted) {
    await interrupted.cleaned;
    return exit(interrupted.code);
  }
  // Pipes can be asynchronous: let stdout drain before the process ends.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  return exit(code);
}
