import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { kafkaComponent } from '../../src/stack/components/kafka.js';
import { postgresService } from '../../src/stack/components/postgres.js';
import { execView } from '../../src/stack/exec.js';
import { stackPaths } from '../../src/stack/paths.js';
import { KAFKA_TOOLS, kafkaToolScript, withBootstrapServer } from '../../src/stack/runtimes/native/kafka-tools.js';

const BS = '127.0.0.1:9092';

describe('--bootstrap-server for Kafka tools that name none', () => {
  it('is added before the arguments of a tool that takes it anywhere, or at the top level', () => {
    expect(withBootstrapServer(['kafka-topics.sh', '--list'], BS)).toEqual(['kafka-topics.sh', '--bootstrap-server', BS, '--list']);
    expect(withBootstrapServer(['/opt/kafka/bin/kafka-metadata-quorum.sh', 'describe', '--status'], BS)).toEqual([
      '/opt/kafka/bin/kafka-metadata-quorum.sh',
      '--bootstrap-server',
      BS,
      'describe',
      '--status',
    ]);
  });

  it("goes after kafka-cluster.sh's subcommand, and nowhere without one", () => {
    expect(withBootstrapServer(['kafka-cluster.sh', 'cluster-id'], BS)).toEqual(['kafka-cluster.sh', 'cluster-id', '--bootstrap-server', BS]);
    expect(withBootstrapServer(['kafka-cluster.sh', '--help'], BS)).toEqual(['kafka-cluster.sh', '--help']);
  });

  it('keeps an explicit --bootstrap-server (either spelling) or --bootstrap-controller, and leaves other commands alone', () => {
    for (const command of [
      ['kafka-topics.sh', '--bootstrap-server', 'kafka:19092', '--list'],
      ['kafka-topics.sh', '--list', '--bootstrap-server=kafka:19092'],
      ['kafka-metadata-quorum.sh', '--bootstrap-controller', 'localhost:9093', 'describe', '--status'],
      ['kafka-storage.sh', 'info', '-c', 'server.properties'],
      ['kafka-topics', '--list'],
      ['psql', '-c', 'select 1'],
    ]) {
      expect(withBootstrapServer(command, BS)).toEqual(command);
    }
    expect(withBootstrapServer(['kafka-topics.sh', '--list'], undefined)).toEqual(['kafka-topics.sh', '--list']);
  });
});

describe('the Kafka tool wrappers', () => {
  it('name each script once, all in kafka-*.sh or connect-*.sh form', () => {
    const scripts = KAFKA_TOOLS.map((t) => t.script);
    expect(new Set(scripts).size).toBe(scripts.length);
    for (const s of scripts) expect(s).toMatch(/^(kafka|connect)-[a-z0-9-]+\.sh$/);
    expect(scripts).toEqual(expect.arrayContaining(['kafka-topics.sh', 'kafka-console-consumer.sh', 'kafka-console-producer.sh', 'kafka-consumer-groups.sh']));
  });

  it('run java with the heap, the quiet log config and the classpath quoted, passing every argument through', async () => {
    const topics = KAFKA_TOOLS.find((t) => t.script === 'kafka-topics.sh')!;
    const script = kafkaToolScript(topics, { classpath: ["/c/it's/libs/*", '/t/kafka-tools.jar'], log4jConfig: '/s/log4j2.yaml', java: 'echo' });
    expect(script.split('\n')[0]).toBe('#!/bin/sh');
    const { stdout } = await execa('sh', ['-c', script, 'kafka-topics.sh', '--list', 'two words'], { env: { KAFKA_OPTS: '-Da=1 -Db=2' } });
    expect(stdout).toBe(
      "-Xmx256m -XX:+UseSerialGC -Djava.awt.headless=true -Dlog4j2.configurationFile=/s/log4j2.yaml -Da=1 -Db=2 -cp /c/it's/libs/*:/t/kafka-tools.jar org.apache.kafka.tools.TopicCommand --list two words",
    );
    const heap = await execa('sh', ['-c', script, 'kafka-topics.sh'], { env: { KAFKA_HEAP_OPTS: '-Xmx1g' } });
    expect(heap.stdout).toMatch(/^-Xmx1g -XX/);
  });
});

describe('where exec sees a service', () => {
  const paths = stackPaths('/tmp/outboxctl-none', 'x');

  it('natively: the recorded host (127.0.0.1 for a wildcard bind) and host ports', () => {
    const view = execView(paths, kafkaComponent, { runtime: 'native', pid: 1, host: '0.0.0.0', ports: { main: 40_001, controller: 40_002 } });
    expect({ host: view.host, ports: view.ports }).toEqual({ host: '127.0.0.1', ports: { main: 40_001, controller: 40_002 } });
  });

  it("in a container: 127.0.0.1 and the container's ports, Kafka's internal listener for its main port", async () => {
    const kafka = execView(paths, kafkaComponent, { runtime: 'docker', containerId: 'c', host: '127.0.0.1', ports: { main: 40_001, controller: 40_002 } });
    expect({ host: kafka.host, ports: kafka.ports }).toEqual({ host: '127.0.0.1', ports: { main: 19_092, controller: 9093 } });
    expect(await kafkaComponent.execEnv!(kafka)).toEqual({ KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:19092' });
    const pg = execView(paths, postgresService, { runtime: 'docker', containerId: 'c', host: '127.0.0.1', ports: { main: 40_003 } });
    expect(pg.ports).toEqual({ main: 5432 });
    expect(await postgresService.execEnv!({ ...pg, secret: async () => 'pw' })).toEqual({
      PGHOST: '127.0.0.1',
      PGPORT: '5432',
      PGUSER: 'postgres',
      PGPASSWORD: 'pw',
      PGDATABASE: 'outbox',
    });
  });
});
