// Runs every benchmark in turn; `--short` makes each one quick enough for CI.

import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const args = process.argv.slice(2);
for (const script of ['tracking.mjs', 'tail.mjs', 'pipeline.mjs', 'up.mjs']) {
  await execa('node', [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: 'inherit' });
}
