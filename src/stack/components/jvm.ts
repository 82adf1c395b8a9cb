import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderTemplateFile } from '../../lib/template.js';
import type { ArtifactSet } from '../artifacts.js';
import type { ServiceContext } from './types.js';
import { KAFKA_VERSION, LOG4J_VERSION, SLF4J_VERSION } from './versions.js';

/** Kafka and Kafka Connect share one set of jars (the broker, the Connect runtime, log4j2). */
export const kafkaArtifacts: ArtifactSet = {
  id: `kafka-${KAFKA_VERSION}`,
  artifacts: [
    { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: KAFKA_VERSION },
    { groupId: 'org.apache.kafka', artifactId: 'connect-runtime', version: KAFKA_VERSION },
    { groupId: 'org.apache.kafka', artifactId: 'connect-json', version: KAFKA_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j2-impl', version: LOG4J_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: LOG4J_VERSION },
    { groupId: 'org.slf4j', artifactId: 'slf4j-api', version: SLF4J_VERSION },
  ],
};

/**
 * Kafka's command-line tools (TopicCommand and friends, for `outboxctl exec kafka`): not in the
 * broker's set; only its jars the broker's set lacks go on the tools' classpath. The test images
 * take the same set (one cache directory per id: its content must not differ).
 */
export const kafkaToolsArtifacts: ArtifactSet = {
  id: `kafka-tools-${KAFKA_VERSION}`,
  artifacts: [{ groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version: KAFKA_VERSION }],
};

/** Writes the log4j2 config of a JVM service and returns its path. */
export async function log4jConfig(ctx: ServiceContext): Promise<string> {
  await mkdir(ctx.configDir, { recursive: true });
  const file = path.join(ctx.configDir, 'log4j2.yaml');
  await writeFile(file, await renderTemplateFile('log4j2.yaml', {}));
  return file;
}

/** The class path of a resolved artifact set: its jars, as java expands `libs/*`. */
export const setClasspath = (dir: string): string[] => [`${path.join(dir, 'libs')}/*`];

/**
 * `java` with an explicit heap (JVM defaults would take a quarter of RAM each) and the classpath;
 * `flags` (class-data sharing) go before the class path.
 */
export function javaArgs(heapMb: number, classpathDir: string, log4j: string, main: string, args: string[], flags: string[] = []): string[] {
  return [
    `-Xms${Math.min(256, heapMb)}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    ...flags,
    '-cp',
    setClasspath(classpathDir).join(path.delimiter),
    main,
    ...args,
  ];
}

/** A JVM service's class-data-sharing flags for `main` over an artifact set (see jvm-cache.ts). */
export async function serviceSharing(ctx: ServiceContext, name: string, classpathDir: string, main: string): Promise<string[]> {
  const { classDataSharing } = await import('./jvm-cache.js');
  return classDataSharing({ env: ctx.env, name, classpath: setClasspath(classpathDir), main });
}
