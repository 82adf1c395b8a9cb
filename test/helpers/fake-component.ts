import type { Component, ServiceName } from '../../src/stack/components/types.js';

/** A tiny HTTP server that says when it listens (FAKE_SILENT=1: it never does). */
const SERVER = `
const http = require('node:http');
console.log('fake starting');
if (process.env.FAKE_SILENT === '1') setInterval(() => {}, 1000);
else http.createServer((q, r) => r.end('hello from fake')).listen(Number(process.argv[1]), process.argv[2], () => console.log('fake listening'));
`;

/**
 * A component described once, in the tests and nowhere else, for both runtimes: natively the server
 * above; as a container, a shell in the local Debian base image that says the same lines.
 */
export const fakeComponent: Component = {
  name: 'fake' as ServiceName,
  summary: 'a fake service of the test',
  version: '1.0',
  dependsOn: [],
  // Not 1 or 9: other tests count on nothing listening there (and root may bind them).
  ports: [{ name: 'main', preferred: 18_765, container: 8000 }],
  readiness: { describe: 'the log line "fake listening"', check: { kind: 'log', pattern: /fake listening/ } },
  endpointNames: [],
  endpoints: async () => ({}),
  native: {
    stopSignal: 'SIGTERM',
    stopGraceMs: 5_000,
    launch: async (ctx) => ({ command: process.execPath, args: ['-e', SERVER, String(ctx.ports.main), ctx.host] }),
  },
  container: {
    image: process.env.OUTBOXCTL_TEST_BASE_IMAGE ?? 'localhost/outboxctl-base:bookworm',
    // A shell as pid 1 ignores SIGTERM unless it traps it: this one exits at once, as a service should.
    command: () => ['sh', '-c', "trap 'echo fake stopping; exit 0' TERM; echo fake starting; echo fake listening; while :; do sleep 1; done"],
    volume: '/data',
    stopGraceMs: 5_000,
  },
};
