import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { component, withDependencies } from '../../src/stack/components/index.js';
import { classDataSharing } from '../../src/stack/components/jvm-cache.js';
import { kafkaClusterId } from '../../src/stack/components/kafka.js';
import { describeStep, numberSteps, planDown, planUp, type Step, stepDependencies } from '../../src/stack/plan.js';
import { runGraph } from '../../src/stack/schedule.js';
import { activitySubject, UpView } from '../../src/ui/up-view.js';

describe('planUp', () => {
  it('a new stack: the ten steps, in the order that lets Debezium see every event', () => {
    const services = withDependencies(['postgres', 'kafka', 'elasticsearch', 'connect', 'sink', 'tracking']);
    const steps = planUp({ services, ready: new Set(), partitions: 3 });
    expect(numberSteps(steps, { partitions: 3 })).toEqual([
      '1. start postgres',
      '2. apply database migrations (db migrate: tables, publication parcel_outbox_pub, heartbeat table)',
      '3. ensure the debezium role (LOGIN REPLICATION)',
      '4. start kafka',
      "5. create topics parcel.outbox (3 partitions), parcel.outbox.dlq and Debezium's heartbeat topic",
      '6. start elasticsearch',
      '   then install the Elasticsearch index templates (events, parcels)',
      '7. start connect',
      '8. register parcel-outbox-source and wait until RUNNING (Debezium creates its replication slot)',
      "9. start the embedded sink (elasticsearch-sink's semantics)",
      '10. start tracking',
    ]);
  });

  it('with --sink connect, the sink is a Connect registration instead of a process', () => {
    const steps = planUp({
      services: ['postgres', 'kafka', 'elasticsearch', 'connect', 'sink'],
      ready: new Set(['postgres', 'kafka', 'elasticsearch', 'connect'] as const),
      done: new Set(['topics', 'index-templates', 'register-source'] as const),
      sink: 'connect',
    });
    expect(steps.map((s) => describeStep(s))).toEqual([
      'keep (ready) postgres',
      'keep (ready) kafka',
      'keep (ready) elasticsearch',
      'keep (ready) connect',
      'register elasticsearch-sink on Connect and wait until RUNNING',
    ]);
  });

  it('only what it needs: tracking alone starts postgres first, with its tasks', () => {
    const services = withDependencies(['tracking']);
    expect(services).toEqual(['postgres', 'tracking']);
    expect(planUp({ services, ready: new Set() }).map((s) => describeStep(s))).toEqual([
      'start postgres',
      'apply database migrations (db migrate: tables, publication parcel_outbox_pub, heartbeat table)',
      'ensure the debezium role (LOGIN REPLICATION)',
      'start tracking',
    ]);
  });

  it('keeps ready services and repeats no one-time step: tasks recorded done are skipped', () => {
    const steps = planUp({
      services: ['postgres', 'kafka', 'connect'],
      ready: new Set(['postgres', 'kafka'] as const),
      done: new Set(['topics', 'register-source'] as const),
    });
    expect(steps.map((s) => describeStep(s))).toEqual(['keep (ready) postgres', 'keep (ready) kafka', 'start connect']);
  });

  it('stops in reverse order', () => {
    expect(planDown(['postgres', 'tracking', 'kafka'], ['postgres', 'kafka', 'connect', 'tracking'])).toEqual(['tracking', 'kafka', 'postgres']);
  });
});

describe('UpView (ink)', () => {
  it('shows a line per step: ready with seconds, running, failed, pending', () => {
    const { lastFrame, unmount } = render(
      <UpView
        model={{
          notes: ['port 5432 (postgres) is in use; using 40001 instead'],
          rows: [
            { label: 'start postgres', state: 'done', seconds: 0.9 },
            { label: 'start kafka', state: 'running', detail: 'formatting Kafka storage' },
            { label: 'start connect', state: 'failed' },
            { label: 'start tracking', state: 'pending' },
          ],
        }}
      />,
    );
    const frame = lastFrame() ?? '';
    unmount();
    const lines = frame.split('\n');
    expect(lines[0]).toBe('! port 5432 (postgres) is in use; using 40001 instead');
    expect(lines[1]).toBe('✔ start postgres 0.9s');
    expect(lines[2]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] start kafka formatting Kafka storage$/);
    expect(lines[3]).toBe('✖ start connect');
    expect(lines[4]).toBe('· start tracking');
  });

  it('keeps one progress line per image and per Maven set, the latest of each', () => {
    const messages = [
      'postgres: building localhost/pg:1: step 1/9',
      'kafka: pulling apache/kafka:4.3.1: 3 MB / 90 MB',
      'resolving kafka-4.3.1: 12 files downloaded',
      'postgres: building localhost/pg:1: step 7/9',
      'kafka: pulling apache/kafka:4.3.1: 60 MB / 90 MB',
      'resolved kafka-4.3.1: 120 jars',
    ];
    const activity: Record<string, string> = {};
    for (const m of messages) activity[activitySubject(m)] = m;
    const { lastFrame, unmount } = render(<UpView model={{ notes: [], rows: [], activity }} />);
    const frame = lastFrame() ?? '';
    unmount();
    expect(frame.split('\n')).toEqual([
      'postgres: building localhost/pg:1: step 7/9',
      'kafka: pulling apache/kafka:4.3.1: 60 MB / 90 MB',
      'resolved kafka-4.3.1: 120 jars',
    ]);
  });
});

describe('kafkaClusterId', () => {
  it('is 22 base64url characters and never starts with "-"', () => {
    const draws = [Buffer.from(`fb${'00'.repeat(15)}`, 'hex'), Buffer.alloc(16, 7)];
    const id = kafkaClusterId(() => draws.shift()!);
    expect(
      Buffer.from(`fb${'00'.repeat(15)}`, 'hex')
        .toString('base64url')
        .startsWith('-'),
    ).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 7).toString('base64url'));
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});

describe('stepDependencies', () => {
  const dependsOn = (s: Parameters<typeof component>[0]) => component(s).dependsOn;
  const label = (s: Step) => (s.kind === 'task' ? s.task : s.service);
  const waits = (steps: Step[], barrier?: 'connect') => {
    const deps = stepDependencies(steps, { dependsOn, barrier });
    return Object.fromEntries(steps.map((s, i) => [label(s), deps[i]!.map((j) => label(steps[j]!))]));
  };
  const services = withDependencies(['postgres', 'kafka', 'elasticsearch', 'connect', 'sink', 'tracking', 'auditing']);

  it('a warm stack: PostgreSQL, Kafka and Elasticsearch at once; each service after what it needs and its tasks', () => {
    const steps = planUp({ services, ready: new Set(), done: new Set(['topics', 'index-templates', 'register-source']) });
    expect(waits(steps)).toEqual({
      postgres: [],
      migrate: ['postgres'],
      'debezium-role': ['postgres', 'migrate'],
      kafka: [],
      elasticsearch: [],
      connect: ['kafka'],
      sink: ['kafka', 'elasticsearch'],
      tracking: ['postgres', 'migrate', 'debezium-role'],
      auditing: ['elasticsearch'],
    });
  });

  it('a new stack: the source is registered after everything before it, and what follows waits for it', () => {
    const steps = planUp({ services, ready: new Set() });
    const w = waits(steps);
    expect(w.connect).toEqual(['kafka', 'topics']);
    expect(w['register-source']).toEqual(['postgres', 'migrate', 'debezium-role', 'kafka', 'topics', 'elasticsearch', 'index-templates', 'connect']);
    expect(w.tracking).toEqual(['postgres', 'migrate', 'debezium-role', 'register-source']);
    expect(w.sink).toEqual(['kafka', 'topics', 'elasticsearch', 'index-templates', 'register-source']);
    expect(w.auditing).toEqual(['elasticsearch', 'index-templates', 'register-source']);
  });

  it('a barrier: every step after it waits for it', () => {
    const steps = planUp({ services, ready: new Set(), done: new Set(['topics', 'index-templates', 'register-source']) });
    const w = waits(steps, 'connect');
    expect(w.tracking).toContain('connect');
    expect(w.auditing).toContain('connect');
    expect(w.elasticsearch).toEqual([]);
  });
});

describe('runGraph', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it('starts what does not wait at once, and the rest when what it waits for is done', async () => {
    const gates = { a: deferred(), b: deferred(), c: deferred() };
    const started: string[] = [];
    const run = runGraph(
      () => ({ items: ['a', 'b', 'c'] as const, deps: [[], [], [0, 1]] }),
      async (item) => {
        started.push(item);
        await gates[item].promise;
      },
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b']);
    gates.a.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b']);
    gates.b.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b', 'c']);
    gates.c.resolve();
    await run;
  });

  it('the first failure aborts the others, starts nothing more and is thrown', async () => {
    const started: string[] = [];
    const aborted: string[] = [];
    const run = runGraph(
      () => ({ items: ['slow', 'bad', 'after'], deps: [[], [], [1]] }),
      async (item, signal) => {
        started.push(item);
        if (item === 'bad') throw new Error('bad failed');
        await new Promise<void>((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted.push(item);
            reject(new Error('aborted'));
          }),
        );
      },
    );
    await expect(run).rejects.toThrow('bad failed');
    expect(started).toEqual(['slow', 'bad']);
    expect(aborted).toEqual(['slow']);
  });

  it('an item may replace the items after it', async () => {
    let graph = { items: ['a', 'old'], deps: [[], [0]] };
    const ran: string[] = [];
    await runGraph(
      () => graph,
      async (item) => {
        ran.push(item);
        if (item === 'a') graph = { items: ['a', 'new1', 'new2'], deps: [[], [0], [1]] };
      },
    );
    expect(ran).toEqual(['a', 'new1', 'new2']);
  });
});

describe('classDataSharing', () => {
  it('adds nothing when turned off or when no java is on PATH', async () => {
    const request = { name: 'kafka', classpath: ['/nowhere/libs/*'], main: 'kafka.Kafka' };
    expect(await classDataSharing({ ...request, env: { PATH: process.env.PATH, OUTBOXCTL_JVM_CDS: '0' } })).toEqual([]);
    expect(await classDataSharing({ ...request, env: { PATH: '/nonexistent' } })).toEqual([]);
  });
});
