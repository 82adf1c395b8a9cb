import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { withDependencies } from '../../src/stack/components/index.js';
import { kafkaClusterId } from '../../src/stack/components/kafka.js';
import { describeStep, planDown, planUp } from '../../src/stack/plan.js';
import { UpView } from '../../src/ui/up-view.js';

describe('planUp', () => {
  it('starts what is not ready, in dependency order, with the PostgreSQL tasks after PostgreSQL', () => {
    const services = withDependencies(['tracking', 'connect']);
    expect(services).toEqual(['postgres', 'kafka', 'connect', 'tracking']);
    const steps = planUp({ services, ready: new Set() });
    expect(steps.map(describeStep)).toEqual([
      'start postgres',
      'apply database migrations (db migrate)',
      'ensure the debezium role (LOGIN REPLICATION)',
      'start kafka',
      'start connect',
      'start tracking',
    ]);
  });

  it('keeps ready services and repeats no one-time step for a running PostgreSQL', () => {
    const steps = planUp({ services: ['postgres', 'kafka', 'connect'], ready: new Set(['postgres', 'kafka'] as const) });
    expect(steps.map(describeStep)).toEqual(['keep (ready) postgres', 'keep (ready) kafka', 'start connect']);
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
});

describe('kafkaClusterId', () => {
  it('is 22 base64url characters and never starts with "-"', () => {
    const draws = [Buffer.from('fb' + '00'.repeat(15), 'hex'), Buffer.alloc(16, 7)];
    const id = kafkaClusterId(() => draws.shift()!);
    expect(Buffer.from('fb' + '00'.repeat(15), 'hex').toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 7).toString('base64url'));
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
