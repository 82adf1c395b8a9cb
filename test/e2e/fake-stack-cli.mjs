#!/usr/bin/env node
// outboxctl as built in dist/ (`npm run build`), with two fake services registered that run as the
// real ones do: detached processes that name a path in their stack's directory (their data
// directory) on their command line. `fakebus` depends on `fakedb`; FAKE_DELAY_MS_<NAME> delays its
// "fake listening" line (its readiness). FAKE_KILL_AFTER_SPAWN=<service>: this process SIGKILLs
// itself once the runtime has started that service and before `up` records it.
import { runCli } from '../../dist/cli.js';
import { registerComponent } from '../../dist/stack/components/index.js';
import { nativeRuntime } from '../../dist/stack/runtimes/native/index.js';

const SERVER = `
const http = require('node:http');
const [port, host, , delayMs] = process.argv.slice(1);
console.log('fake starting');
setTimeout(() => http.createServer((q, r) => r.end('ok')).listen(Number(port), host, () => console.log('fake listening')), Number(delayMs));
`;

const fake = (name, preferred, dependsOn) => ({
  name,
  summary: `a fake ${name} of the test`,
  version: '1.0',
  dependsOn,
  ports: [{ name: 'main', preferred }],
  readiness: { describe: 'the log line "fake listening"', check: { kind: 'log', pattern: /fake listening/ } },
  // fakebus plays a broker: its endpoint is recorded as the stack's Kafka, as a real one's would be.
  endpointNames: name === 'fakebus' ? ['kafka'] : [],
  endpoints: async (at) => (name === 'fakebus' ? { kafka: `${at.host}:${at.ports.main}` } : {}),
  native: {
    stopSignal: 'SIGTERM',
    stopGraceMs: 5_000,
    launch: async (ctx) => ({
      command: process.execPath,
      args: ['-e', SERVER, String(ctx.ports.main), ctx.host, ctx.dataDir, ctx.env[`FAKE_DELAY_MS_${name.toUpperCase()}`] ?? '0'],
    }),
  },
});

// Preferred ports per test home (FAKE_PORT_BASE): homes tested at the same time never race for one.
const base = Number(process.env.FAKE_PORT_BASE ?? 18_771);
registerComponent(fake('fakedb', base, []));
registerComponent(fake('fakebus', base + 1, ['fakedb']));

const killAfter = process.env.FAKE_KILL_AFTER_SPAWN;
if (killAfter) {
  const create = nativeRuntime.create;
  nativeRuntime.create = async (component, ctx) => {
    const service = await create(component, ctx);
    if (component.name === killAfter) process.kill(process.pid, 'SIGKILL');
    return service;
  };
}

await runCli(process.argv.slice(2));
