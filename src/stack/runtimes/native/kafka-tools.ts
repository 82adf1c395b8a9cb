import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { artifactDir, isResolved, resolveArtifactSet } from '../../artifacts.js';
import { kafkaArtifacts, kafkaToolsArtifacts } from '../../components/jvm.js';
import { KAFKA_VERSION } from '../../components/versions.js';
import type { StackPaths } from '../../paths.js';

/** Where a tool takes `--bootstrap-server`: anywhere (before the user's arguments), or after its subcommand. */
export type BootstrapPlacement = 'first' | 'after-subcommand';

/** A script of Kafka's bin/ that runs one Java main (`kafka-run-class.sh <MainClass> "$@"` in the tarball). */
export interface KafkaTool {
  script: string;
  /** The class it runs; absent for kafka-run-class.sh itself, which takes the class as its first argument. */
  mainClass?: string;
  /** Heap the tarball's script sets (KAFKA_HEAP_OPTS overrides it); kafka-run-class.sh's 256 MiB otherwise. */
  heapMb?: number;
  /** Set when it takes `--bootstrap-server` (`outboxctl exec` adds the stack's when none is given). */
  bootstrap?: BootstrapPlacement;
}

const tools = 'org.apache.kafka.tools';

/**
 * Kafka 4.3.1's bin/ scripts that are a plain Java main, with the classes the tarball runs (each
 * checked to answer `--help` over the Maven-resolved jars). Servers (kafka-server-start, connect-*,
 * trogdor) are left out: `up` runs those; so is kafka-metadata-shell.sh (offline, on snapshot files,
 * and another set of jars).
 */
export const KAFKA_TOOLS: readonly KafkaTool[] = [
  { script: 'kafka-acls.sh', mainClass: `${tools}.AclCommand`, bootstrap: 'first' },
  { script: 'kafka-broker-api-versions.sh', mainClass: `${tools}.BrokerApiVersionsCommand`, bootstrap: 'first' },
  { script: 'kafka-client-metrics.sh', mainClass: `${tools}.ClientMetricsCommand`, bootstrap: 'first' },
  { script: 'kafka-cluster.sh', mainClass: `${tools}.ClusterTool`, bootstrap: 'after-subcommand' },
  { script: 'kafka-configs.sh', mainClass: 'kafka.admin.ConfigCommand', bootstrap: 'first' },
  { script: 'kafka-console-consumer.sh', mainClass: `${tools}.consumer.ConsoleConsumer`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-console-producer.sh', mainClass: `${tools}.ConsoleProducer`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-console-share-consumer.sh', mainClass: `${tools}.consumer.ConsoleShareConsumer`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-consumer-groups.sh', mainClass: `${tools}.consumer.group.ConsumerGroupCommand`, bootstrap: 'first' },
  { script: 'kafka-consumer-perf-test.sh', mainClass: `${tools}.ConsumerPerformance`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-delegation-tokens.sh', mainClass: `${tools}.DelegationTokenCommand`, bootstrap: 'first' },
  { script: 'kafka-delete-records.sh', mainClass: `${tools}.DeleteRecordsCommand`, bootstrap: 'first' },
  { script: 'kafka-dump-log.sh', mainClass: `${tools}.DumpLogSegments` },
  { script: 'kafka-e2e-latency.sh', mainClass: `${tools}.EndToEndLatency` },
  { script: 'kafka-features.sh', mainClass: `${tools}.FeatureCommand`, bootstrap: 'first' },
  { script: 'kafka-get-offsets.sh', mainClass: `${tools}.GetOffsetShell`, bootstrap: 'first' },
  { script: 'kafka-groups.sh', mainClass: `${tools}.GroupsCommand`, bootstrap: 'first' },
  { script: 'kafka-jmx.sh', mainClass: `${tools}.JmxTool` },
  { script: 'kafka-leader-election.sh', mainClass: `${tools}.LeaderElectionCommand`, bootstrap: 'first' },
  { script: 'kafka-log-dirs.sh', mainClass: `${tools}.LogDirsCommand`, bootstrap: 'first' },
  { script: 'kafka-metadata-quorum.sh', mainClass: `${tools}.MetadataQuorumCommand`, bootstrap: 'first' },
  { script: 'kafka-producer-perf-test.sh', mainClass: `${tools}.ProducerPerformance`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-reassign-partitions.sh', mainClass: `${tools}.reassign.ReassignPartitionsCommand`, bootstrap: 'first' },
  { script: 'kafka-replica-verification.sh', mainClass: `${tools}.ReplicaVerificationTool` },
  { script: 'kafka-share-consumer-perf-test.sh', mainClass: `${tools}.ShareConsumerPerformance`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-share-groups.sh', mainClass: `${tools}.consumer.group.ShareGroupCommand`, bootstrap: 'first' },
  { script: 'kafka-storage.sh', mainClass: 'kafka.tools.StorageTool' },
  { script: 'kafka-streams-application-reset.sh', mainClass: `${tools}.StreamsResetter`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-streams-groups.sh', mainClass: `${tools}.streams.StreamsGroupCommand`, bootstrap: 'first' },
  { script: 'kafka-topics.sh', mainClass: `${tools}.TopicCommand`, bootstrap: 'first' },
  { script: 'kafka-transactions.sh', mainClass: `${tools}.TransactionsCommand`, bootstrap: 'first' },
  { script: 'kafka-verifiable-consumer.sh', mainClass: `${tools}.VerifiableConsumer`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-verifiable-producer.sh', mainClass: `${tools}.VerifiableProducer`, heapMb: 512, bootstrap: 'first' },
  { script: 'kafka-verifiable-share-consumer.sh', mainClass: `${tools}.VerifiableShareConsumer`, heapMb: 512, bootstrap: 'first' },
  { script: 'connect-plugin-path.sh', mainClass: `${tools}.ConnectPluginPath`, heapMb: 512 },
  { script: 'kafka-run-class.sh' },
];

/** The tools' log4j2 config, as Kafka's tools-log4j2: warnings and errors on stderr, so stdout carries only the tool's output. */
export const KAFKA_TOOLS_LOG4J2 = `# Written by outboxctl for Kafka's tools: warnings and errors on stderr, stdout is the tool's.
Configuration:
  Appenders:
    Console:
      name: STDERR
      target: SYSTEM_ERR
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDERR
`;

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface WrapperSettings {
  /** The JVM's classpath (`dir/*` entries are expanded by java itself). */
  classpath: string[];
  log4jConfig: string;
  /** `java` (from PATH) unless given. */
  java?: string;
}

/** The `#!/bin/sh` script that runs a tool as Kafka's tarball does, without kafka-run-class.sh's machinery. */
export function kafkaToolScript(tool: KafkaTool, settings: WrapperSettings): string {
  const java = settings.java ?? 'java';
  const main = tool.mainClass ? ` ${tool.mainClass}` : '';
  return [
    '#!/bin/sh',
    `# Kafka ${KAFKA_VERSION}'s ${tool.script}, generated by outboxctl over the Maven-resolved jars (the scripts exist only in Kafka's tarball).`,
    `exec ${java === 'java' ? java : shellQuote(java)} \${KAFKA_HEAP_OPTS:--Xmx${tool.heapMb ?? 256}m} -XX:+UseSerialGC -Djava.awt.headless=true ${shellQuote(`-Dlog4j2.configurationFile=${settings.log4jConfig}`)} $KAFKA_OPTS -cp ${shellQuote(settings.classpath.join(':'))}${main} "$@"`,
    '',
  ].join('\n');
}

/**
 * `--bootstrap-server <the stack's>` for a Kafka tool that takes one when the command names none
 * (nor `--bootstrap-controller`); any other command is returned as it is. Both runtimes use it.
 */
export function withBootstrapServer(command: string[], bootstrap: string | undefined): string[] {
  const [program, ...args] = command;
  if (program === undefined || !bootstrap) return command;
  const tool = KAFKA_TOOLS.find((t) => t.script === path.posix.basename(program));
  if (!tool?.bootstrap) return command;
  if (args.some((a) => /^--bootstrap-(server|controller)(=|$)/.test(a))) return command;
  if (tool.bootstrap === 'first') return [program, '--bootstrap-server', bootstrap, ...args];
  const [subcommand, ...rest] = args;
  // No subcommand yet (`kafka-cluster.sh --help`): nothing to add it to.
  if (subcommand === undefined || subcommand.startsWith('-')) return command;
  return [program, subcommand, '--bootstrap-server', bootstrap, ...rest];
}

/** `kafka-clients-4.3.1.jar` → `kafka-clients`. */
const artifactName = (jar: string) => /^(.*?)-\d/.exec(jar)?.[1] ?? jar;

const jarsIn = async (dir: string) => (await readdir(path.join(dir, 'libs'))).filter((f) => f.endsWith('.jar')).sort();

/**
 * The tools' classpath: the broker's jars, then those of the tools' set it lacks (a different
 * version of a jar the broker has never joins it).
 */
export async function kafkaToolsClasspath(env: NodeJS.ProcessEnv, onProgress: (message: string) => void): Promise<string[]> {
  const kafkaDir = isResolved(env, kafkaArtifacts) ? artifactDir(env, kafkaArtifacts) : await resolveArtifactSet(kafkaArtifacts, { env, onProgress });
  const broker = await jarsIn(kafkaDir);
  const classpath = [`${path.join(kafkaDir, 'libs')}/*`];
  if (broker.some((j) => artifactName(j) === 'kafka-tools')) return classpath;
  const toolsDir = await resolveArtifactSet(kafkaToolsArtifacts, { env, onProgress });
  const have = new Set(broker.map(artifactName));
  const extra = (await jarsIn(toolsDir)).filter((j) => !have.has(artifactName(j)));
  return [...classpath, ...extra.map((j) => path.join(toolsDir, 'libs', j))];
}

/** Writes a file only when its content changes, atomically (another exec may be running the old one). */
async function writeIfChanged(file: string, content: string, mode: number): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

/** `<stack>/bin/kafka`: the directory of generated tool scripts `outboxctl exec kafka` puts first on PATH. */
export const kafkaToolsDir = (paths: StackPaths) => path.join(paths.dir, 'bin', 'kafka');

/**
 * Writes the wrappers of every tool of KAFKA_TOOLS into `<stack>/bin/kafka` (resolving the tools'
 * jars on first use) and returns that directory.
 */
export async function ensureKafkaTools(paths: StackPaths, env: NodeJS.ProcessEnv, onProgress: (message: string) => void): Promise<string> {
  const classpath = await kafkaToolsClasspath(env, onProgress);
  const configDir = path.join(paths.dir, 'config', 'kafka-tools');
  const bin = kafkaToolsDir(paths);
  await mkdir(configDir, { recursive: true });
  await mkdir(bin, { recursive: true });
  const log4jConfig = path.join(configDir, 'log4j2.yaml');
  await writeIfChanged(log4jConfig, KAFKA_TOOLS_LOG4J2, 0o644);
  for (const tool of KAFKA_TOOLS) await writeIfChanged(path.join(bin, tool.script), kafkaToolScript(tool, { classpath, log4jConfig }), 0o755);
  return bin;
}
