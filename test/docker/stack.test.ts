import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerComponent } from '../../src/stack/components/index.js';
import type { Component, ServiceName } from '../../src/stack/components/types.js';
import { connectEngine, labelFilter } from '../../src/stack/runtimes/docker/engine.js';
import { BIN, cli, LOCAL_CONTEXT_ENV, ROOT } from '../helpers/cli.js';
import { fakeComponent } from '../helpers/fake-component.js';
import { connectorAnswers, roleFacts } from '../helpers/least-privilege.js';
import { stackState } from '../helpers/state.js';
import { prepareTestImageContexts } from '../images/prepare.js';

/**
 * The Docker runtime end to end on a real engine (Podman serving the Docker Engine API, started by
 * .ci/container-engine.sh): the stack's infrastructure as containers from local images built from
 * Debian's packages and the Maven-resolved jars (passed as --image overrides, built by `up` itself),
 * outboxctl's own servers as host processes, driven through the real CLI.
 */
const host = process.env.OUTBOXCTL_TEST_DOCKER_HOST;
const CONTAINERS = ['postgres', 'kafka', 'elasticsearch', 'connect'];

interface Status {
  runtime: string;
  services: { name: string; state: string; runtime: string | null; containerId: string | null; image: string | null; port: number | null }[];
}

describe('outboxctl up --runtime docker', () => {
  let docker: Docker;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const stack = `d${Date.now().toString(36)}`;

  const run = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const r = await execa(BIN, ['--stack', stack, ...args], { env: { ...env, ...extra }, extendEnv: false, reject: false, cwd: ROOT, all: false });
    return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const labelled = async (s = stack) => ({
    containers: (await docker.listContainers({ all: true, filters: labelFilter(s) })).map((c) => c.Names[0]?.replace(/^\//, '')).sort(),
    networks: (await docker.listNetworks({ filters: labelFilter(s) })).map((n) => n.Name).sort(),
    volumes: ((await docker.listVolumes({ filters: labelFilter(s) })).Volumes ?? []).map((v) => v.Name).sort(),
  });
  const status = async () => JSON.parse((await run(['status', '--json'])).stdout) as Status;

  beforeAll(async () => {
    if (!host) throw new Error('OUTBOXCTL_TEST_DOCKER_HOST is not set: run `bash .ci/container-engine.sh` and export what it prints');
    docker = await connectEngine({ DOCKER_HOST: host });
    home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-stack-'));
    const contexts = await prepareTestImageContexts(process.env);
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...LOCAL_CONTEXT_ENV,
      NO_COLOR: '1',
      CI: '1',
      DOCKER_HOST: host,
      OUTBOXCTL_HOME: home,
      ...(process.env.OUTBOXCTL_CACHE_DIR ? { OUTBOXCTL_CACHE_DIR: process.env.OUTBOXCTL_CACHE_DIR } : {}),
      ...Object.fromEntries(Object.entries(contexts).map(([service, dir]) => [`OUTBOXCTL_IMAGE_${service.toUpperCase()}`, dir])),
    };
  }, 900_000);

  afterAll(async () => {
    if (!docker) return;
    await run(['down', '--volumes']).catch(() => undefined);
    for (const c of await docker.listContainers({ all: true, filters: labelFilter(stack) })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: labelFilter(stack) })) await docker.getNetwork(n.Id).remove();
    for (const v of (await docker.listVolumes({ filters: labelFilter(stack) })).Volumes ?? []) await docker.getVolume(v.Name).remove();
  }, 120_000);

  it('reaches ready with the infrastructure in labelled containers and our servers on the host; smoke passes; exec reaches Kafka and PostgreSQL', async () => {
    const up = await run(['up', '--runtime', 'docker', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout) as { runtime: string; sink: string; started: { service: string; id: string }[] };
    expect(result.runtime).toBe('docker');
    // The local Connect image has Debezium only: the embedded sink indexes.
    expect(result.sink).toBe('embedded');
    // Image builds are reported on pipes, a few lines per image, not one per build step.
    for (const s of CONTAINERS) expect(up.stderr.split('\n').filter((l) => l.includes(`${s}: building`)).length).toBeLessThan(12);

    const st = await status();
    expect(st.runtime).toBe('docker');
    for (const s of st.services) {
      expect(s.state, s.name).toBe('ready');
      if (CONTAINERS.includes(s.name)) {
        expect(s, s.name).toMatchObject({ runtime: 'docker', image: expect.stringMatching(new RegExp(`^localhost/outboxctl-local/${s.name}:[0-9a-f]{12}$`)) });
        expect(s.containerId).toMatch(/^[0-9a-f]{64}$/);
      } else expect(s, s.name).toMatchObject({ runtime: 'native', containerId: null, image: null });
    }
    const objects = await labelled();
    expect(objects.containers).toEqual(CONTAINERS.map((s) => `${stack}-${s}`).sort());
    expect(objects.networks).toEqual([`outboxctl-${stack}`]);
    expect(objects.volumes).toEqual(['elasticsearch', 'kafka', 'postgres'].map((s) => `outboxctl-${stack}-${s}`));
    const info = await docker.getContainer(st.services.find((s) => s.name === 'postgres')!.containerId!).inspect();
    expect((info.Config as { StopTimeout?: number }).StopTimeout).toBe(30);
    expect(info.Config.Labels).toMatchObject({ 'outboxctl.stack': stack, 'outboxctl.service': 'postgres', 'outboxctl.home': home });

    const table = await run(['status']);
    expect(table.stdout).toMatch(/IMAGE/);
    expect(table.stdout).toMatch(/container [0-9a-f]{12}/);

    const smoke = await run(['smoke', '--runtime', 'docker']);
    expect(smoke.stdout).toMatch(/^smoke passed: 8 steps/);
    expect(smoke.code).toBe(0);

    const topics = await run(['exec', 'kafka', '--', 'kafka-topics.sh', '--list']);
    expect(topics.stdout.split('\n')).toContain('parcel.outbox');
    expect(topics.code).toBe(0);
    const psql = await run(['exec', 'postgres', '--', 'psql', '-tAc', 'select count(*) > 0 from parcel']);
    expect(psql.stdout.trim()).toBe('t');

    const logs = await run(['logs', 'kafka', '--tail', '5']);
    expect(logs.code).toBe(0);
    expect(logs.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(0);
    // Following a container's log: its tail, then it keeps running until Ctrl-C.
    const follow = execa(BIN, ['--stack', stack, 'logs', 'connect', '-f', '--tail', '2'], { env, extendEnv: false, reject: false });
    let seen = '';
    await new Promise<void>((resolve) => {
      follow.stdout!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.split('\n').filter(Boolean).length >= 2) resolve();
      });
    });
    follow.kill('SIGINT');
    const ended = await follow;
    expect(seen).toMatch(/connect/);
    expect([0, 130]).toContain(ended.exitCode);

    const stacks = JSON.parse((await run(['stacks', '--json'])).stdout) as { stacks: { name: string; runtime: string; running: string[] }[] };
    const listed = stacks.stacks.find((s) => s.name === stack);
    expect(listed).toMatchObject({ runtime: 'docker' });
    expect(listed!.running).toEqual(expect.arrayContaining(['postgres', 'kafka', 'connect', 'tracking']));
  }, 900_000);

  it("Debezium's password is in none of Connect's REST answers, config topic or container settings: a read-only file; tracking has its own role", async () => {
    const state = await stackState(home, stack);
    const password = state.secrets.debeziumPassword!;
    expect(password.length).toBeGreaterThan(10);
    const reference = '${file:/run/secrets/debezium.properties:password}';
    const name = 'parcel-outbox-source';
    const answers = await connectorAnswers(state.endpoints.connect!, name);
    for (const [what, body] of Object.entries(answers)) expect(body, what).not.toContain(password);
    expect((JSON.parse(answers.config) as Record<string, string>)['database.password']).toBe(reference);
    expect((JSON.parse(answers.status) as { connector: { state: string }; tasks: { state: string }[] }).tasks.map((t) => t.state)).toEqual(['RUNNING']);
    const topic = await execa('kcat', ['-C', '-b', state.endpoints.kafka!, '-t', '_connect-configs', '-e', '-q'], { reject: false });
    expect(topic.exitCode, topic.stderr).toBe(0);
    expect(topic.stdout).toContain(`"database.password":"${reference}"`);
    expect(topic.stdout).not.toContain(password);
    // The container: the provider in its settings, the password only as a read-only file mount.
    const info = await docker.getContainer(state.services.connect!.runtime === 'docker' ? state.services.connect!.containerId! : '').inspect();
    expect(JSON.stringify(info.Config.Env)).not.toContain(password);
    expect(info.Config.Env).toContain('CONNECT_CONFIG_PROVIDERS_FILE_PARAM_ALLOWED_PATHS=/run/secrets');
    const secrets = path.join(home, 'stacks', stack, 'secrets');
    expect(info.Mounts).toContainEqual(
      expect.objectContaining({ Type: 'bind', Source: path.join(secrets, 'debezium.properties'), Destination: '/run/secrets/debezium.properties', RW: false }),
    );
    // On the host: readable for the container's own user (another uid) through the mount, kept from others by the 0700 directory.
    expect((await stat(secrets)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(secrets, 'debezium.properties'))).mode & 0o777).toBe(0o644);
    expect(await readFile(path.join(secrets, 'debezium.properties'), 'utf8')).toContain(`password=${password}\n`);
    const inContainer = await run(['exec', 'connect', '--', 'sh', '-c', 'id -u; cat /run/secrets/debezium.properties >/dev/null && echo readable']);
    expect(inContainer.stdout.split('\n')).toContain('readable');
    expect(inContainer.stdout.split('\n')[0]).not.toBe('0');

    // The tracking server (a host process) connects to the PostgreSQL container as its own role.
    const facts = await roleFacts(state.endpoints.database!, 'tracking');
    expect(facts.grants).toEqual({
      debezium_heartbeat: [],
      flyway_schema_history: [],
      idempotency_key: ['SELECT', 'INSERT', 'UPDATE'],
      outbox: ['INSERT'],
      parcel: ['SELECT', 'INSERT', 'UPDATE'],
    });
    expect(facts.attributes).toMatchObject({ rolsuper: false, rolcanlogin: true });
    expect(facts.owned).toEqual([]);
    const tracking = state.services.tracking!;
    const environ = (await readFile(`/proc/${tracking.runtime === 'native' ? tracking.pid : 0}/environ`, 'utf8')).split('\0');
    expect(new URL(environ.find((e) => e.startsWith('DATABASE_URL='))!.slice('DATABASE_URL='.length)).username).toBe('tracking');
  }, 120_000);

  it('after a container is killed, up recreates only that one', async () => {
    const before = await status();
    const id = (name: string, s = before) => s.services.find((x) => x.name === name)!.containerId;
    await docker.getContainer(id('elasticsearch')!).kill();
    const up = await run(['up', '--json']);
    expect(up.code, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout) as { started: { service: string }[] };
    expect(result.started.map((s) => s.service).filter((s) => CONTAINERS.includes(s))).toEqual(['elasticsearch']);
    const after = await status();
    for (const s of ['postgres', 'kafka', 'connect']) expect(id(s, after), s).toBe(id(s));
    expect(id('elasticsearch', after)).not.toBe(id('elasticsearch'));
    expect(after.services.every((s) => s.state === 'ready')).toBe(true);

    // restart recreates the container; stop removes it, and up brings it back.
    const restart = await run(['restart', 'connect']);
    expect(restart.code, restart.stderr).toBe(0);
    const restarted = await status();
    expect(id('connect', restarted)).not.toBe(id('connect', after));
    expect(restarted.services.find((s) => s.name === 'connect')!.state).toBe('ready');
    expect((await run(['stop', 'auditing', 'connect'])).code).toBe(0);
    expect((await labelled()).containers).not.toContain(`${stack}-connect`);
    const stopped = await status();
    expect(stopped.services.filter((s) => s.state === 'stopped').map((s) => s.name)).toEqual(['connect', 'auditing']);
    expect((await run(['up'])).code).toBe(0);
    expect((await status()).services.every((s) => s.state === 'ready')).toBe(true);
  }, 300_000);

  it('down removes the containers and the network and keeps the volumes (the data is there again after up); down --volumes removes them too', async () => {
    const down = await run(['down']);
    expect(down.code).toBe(0);
    expect(await labelled()).toEqual({ containers: [], networks: [], volumes: ['elasticsearch', 'kafka', 'postgres'].map((s) => `outboxctl-${stack}-${s}`) });
    // The logs of a removed container stay readable.
    expect((await run(['logs', 'postgres', '--tail', '3'])).stdout.trim()).not.toBe('');

    const up = await run(['up', '--services', 'postgres']);
    expect(up.code).toBe(0);
    const kept = await run(['exec', 'postgres', '--', 'psql', '-tAc', 'select count(*) > 0 from parcel']);
    expect(kept.stdout.trim(), kept.stderr).toBe('t');

    const gone = await run(['down', '--volumes']);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toContain(`dropped replication slot outboxctl_${stack}`);
    expect(await labelled()).toEqual({ containers: [], networks: [], volumes: [] });
  }, 300_000);
});

describe('the runtime a stack gets', () => {
  it('auto: docker for a new stack when the engine answers, native without one; an existing native stack stays native', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-auto-'));
    const plan = async (extra: NodeJS.ProcessEnv, stack: string) => {
      const r = await execa(BIN, ['up', '--dry-run', '--json', '--stack', stack], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...LOCAL_CONTEXT_ENV, OUTBOXCTL_HOME: home, ...extra },
        extendEnv: false,
        reject: false,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { runtime: string }).runtime;
    };
    expect(await plan({ DOCKER_HOST: host }, 'fresh')).toBe('docker');
    expect(await plan({ DOCKER_HOST: `unix://${home}/no-engine.sock` }, 'fresh')).toBe('native');
    // A native stack (started for real: its PostgreSQL) keeps its runtime when an engine answers.
    const native = await execa(BIN, ['up', '--services', 'postgres', '--runtime', 'native', '--stack', 'old'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...LOCAL_CONTEXT_ENV, OUTBOXCTL_HOME: home },
      extendEnv: false,
      reject: false,
    });
    expect(native.exitCode, native.stderr).toBe(0);
    try {
      expect(await plan({ DOCKER_HOST: host }, 'old')).toBe('native');
      const refused = await execa(BIN, ['up', '--runtime', 'docker', '--stack', 'old'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...LOCAL_CONTEXT_ENV, OUTBOXCTL_HOME: home, DOCKER_HOST: host },
        extendEnv: false,
        reject: false,
      });
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('Stack "old" was created with the native runtime, so --runtime docker cannot start it.');
    } finally {
      await execa(BIN, ['down', '--volumes', '--stack', 'old'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...LOCAL_CONTEXT_ENV, OUTBOXCTL_HOME: home },
        reject: false,
      });
    }
  }, 120_000);
});

describe('errors a Docker user meets: one sentence, exit 1, nothing of the run left', () => {
  let docker: Docker;
  let images: NodeJS.ProcessEnv;
  beforeAll(async () => {
    docker = await connectEngine({ DOCKER_HOST: host });
    const contexts = await prepareTestImageContexts(process.env);
    images = Object.fromEntries(Object.entries(contexts).map(([service, dir]) => [`OUTBOXCTL_IMAGE_${service.toUpperCase()}`, dir]));
  }, 900_000);
  const nothingLeft = async (stack: string) => {
    expect((await docker.listContainers({ all: true, filters: labelFilter(stack) })).length).toBe(0);
    expect((await docker.listNetworks({ filters: labelFilter(stack) })).length).toBe(0);
    expect(((await docker.listVolumes({ filters: labelFilter(stack) })).Volumes ?? []).length).toBe(0);
  };
  const base = (home: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...LOCAL_CONTEXT_ENV,
    OUTBOXCTL_HOME: home,
    NO_COLOR: '1',
  });

  it('an image missing locally while no registry answers (the pull "succeeds" and fails in its stream)', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-err-'));
    const stack = `m${Date.now().toString(36)}`;
    const r = await execa(
      BIN,
      ['up', '--runtime', 'docker', '--services', 'postgres', '--stack', stack, '--image', 'postgres=127.0.0.1:9/outboxctl/missing:1'],
      {
        env: { ...base(home), DOCKER_HOST: host },
        extendEnv: false,
        reject: false,
      },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('The postgres image 127.0.0.1:9/outboxctl/missing:1 is not on this machine and could not be pulled:');
    expect(r.stderr).toContain('--image postgres=REF');
    await nothingLeft(stack);
  }, 120_000);

  it('no engine on the socket DOCKER_HOST names', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-err-'));
    const r = await execa(BIN, ['up', '--runtime', 'docker'], {
      env: { ...base(home), DOCKER_HOST: `unix://${home}/docker.sock` },
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`Cannot reach the Docker engine: ${home}/docker.sock does not exist.`);
    expect(r.stderr).toContain('--runtime native');
  }, 60_000);

  it('a socket this user may not open (an unprivileged user via runuser)', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-err-'));
    await chmod(home, 0o777);
    const socket = host!.replace(/^unix:\/\//, '');
    const r = await execa('runuser', ['-u', 'nobody', '--', process.execPath, BIN, 'up', '--runtime', 'docker', '--services', 'postgres'], {
      env: { PATH: process.env.PATH, HOME: home, OUTBOXCTL_HOME: home, NO_COLOR: '1', DOCKER_HOST: host },
      extendEnv: false,
      reject: false,
    });
    expect(r.stderr).toContain(`Cannot reach the Docker engine: this user may not open ${socket}.`);
    expect(r.stderr).toContain('docker group');
    expect(r.exitCode).toBe(1);
    await rm(home, { recursive: true, force: true });
  }, 60_000);

  it("a network of the stack's name that is not the stack's (another home, or made by hand) is refused, not shared", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-err-'));
    const stack = `n${Date.now().toString(36)}`;
    const foreign = await docker.createNetwork({ Name: `outboxctl-${stack}`, Labels: { 'outboxctl.stack': stack, 'outboxctl.home': '/elsewhere' } });
    try {
      const r = await execa(BIN, ['up', '--runtime', 'docker', '--services', 'postgres', '--stack', stack], {
        env: { ...base(home), DOCKER_HOST: host, ...images },
        extendEnv: false,
        reject: false,
      });
      expect(r.stderr).toContain(`A network named outboxctl-${stack} exists that is not part of this stack (made by hand or under another OUTBOXCTL_HOME).`);
      expect(r.exitCode).toBe(1);
      expect((await docker.listContainers({ all: true, filters: labelFilter(stack) })).length).toBe(0);
      expect(((await docker.listVolumes({ filters: labelFilter(stack) })).Volumes ?? []).length).toBe(0);
    } finally {
      await foreign.remove();
    }
  }, 120_000);

  it('a host port taken by the time the container starts (create succeeds, start fails): the port named, nothing kept', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'outboxctl-docker-err-'));
    const stack = `p${Date.now().toString(36)}`;
    let squatter: net.Server | undefined;
    // Another process takes the port after up chose it and before the engine binds it.
    const grabbing: Component = {
      ...fakeComponent,
      name: 'grab' as ServiceName,
      // After PostgreSQL: independent services start at once, and this case is about a failure after one started.
      dependsOn: ['postgres'],
      container: {
        ...fakeComponent.container!,
        env: async (ctx) => {
          squatter = net.createServer();
          await new Promise<void>((resolve) => squatter!.listen(ctx.hostPorts.main, '127.0.0.1', resolve));
          return {};
        },
      },
    };
    registerComponent(grabbing);
    try {
      // PostgreSQL starts first (its container, the network, its volume): the failure after it removes all of it.
      const r = await cli(['up', '--runtime', 'docker', '--services', 'postgres,grab', '--stack', stack], {
        OUTBOXCTL_HOME: home,
        DOCKER_HOST: host,
        ...images,
      });
      const port = (squatter!.address() as net.AddressInfo).port;
      expect(r.stderr).toContain('✔ postgres ready');
      expect(r.stderr).toContain(`Port ${port} was taken by another process when the grab container started; nothing of this start was kept.`);
      expect(r.code).toBe(1);
      await nothingLeft(stack);
      // Nothing ran, so the stack has no runtime yet: native may start it now.
      const native = await cli(['up', '--dry-run', '--json', '--runtime', 'native', '--services', 'grab', '--stack', stack], {
        OUTBOXCTL_HOME: home,
        DOCKER_HOST: host,
      });
      expect(native.code, native.stderr).toBe(0);
    } finally {
      squatter?.close();
    }
  }, 120_000);
});
