import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { availableServices, component } from '../../src/stack/components/index.js';
import {
  CONFLUENT_PLATFORM_VERSION,
  CONNECT_IMAGE,
  DEBEZIUM_VERSION,
  ELASTICSEARCH_IMAGE,
  ES_SINK_VERSION,
  KAFKA_IMAGE,
  POSTGRES_IMAGE,
} from '../../src/stack/components/versions.js';
import { ROOT } from '../helpers/cli.js';

/**
 * The upstream images and Confluent's sink cannot be pulled here, so what can be checked is that
 * every pin is explicit and that the places naming it (versions.ts, compose/connect/Dockerfile,
 * compose/docker-compose.yml, the READMEs) agree.
 */
const read = (relative: string) => readFileSync(path.join(ROOT, relative), 'utf8');

/** The tag of an image reference (`registry:5000/name:tag`), undefined without one. */
function imageTag(ref: string): string | undefined {
  const name = ref.split('@')[0]!;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
}

/** `ARG NAME=default` lines of a Dockerfile (a bare `ARG NAME` re-declares and has none). */
function argDefaults(dockerfile: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const [, name, value] of dockerfile.matchAll(/^ARG\s+(\w+)=(\S+)\s*$/gm)) args[name!] = value!.replace(/^"(.*)"$/, '$1');
  return args;
}

const containerServices = availableServices().filter((s) => component(s).container);
const dockerfile = read('compose/connect/Dockerfile');
const args = argDefaults(dockerfile);
/** Every FROM of the Dockerfile with its ARG defaults filled in. */
const baseImages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map(([, ref]) =>
  ref!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? `<${a ?? b} has no default>`),
);

describe('image and plugin pins', () => {
  it('every container section has a default image with an explicit tag that is not latest', () => {
    expect(containerServices).toEqual(['postgres', 'kafka', 'elasticsearch', 'connect']);
    for (const s of containerServices) {
      const image = component(s).container!.image;
      const tag = imageTag(image);
      expect(tag, `${s}: ${image} has no tag`).toBeDefined();
      expect(tag, `${s}: ${image} is not pinned`).not.toBe('latest');
    }
    expect(imageTag('localhost:5000/outboxctl/x')).toBeUndefined();
    expect(imageTag('localhost:5000/outboxctl/x:1.2')).toBe('1.2');
  });

  it("compose/connect/Dockerfile's ARG defaults are the pins of versions.ts, and every base image is pinned", () => {
    expect(args).toMatchObject({ CONFLUENT_PLATFORM_VERSION, ES_SINK_VERSION, DEBEZIUM_VERSION });
    expect(baseImages).toContain(`confluentinc/cp-kafka-connect:${CONFLUENT_PLATFORM_VERSION}`);
    for (const ref of baseImages) {
      if (/^\w+$/.test(ref)) continue; // an earlier stage's name
      expect(imageTag(ref), `FROM ${ref} has no tag`).toBeDefined();
      expect(imageTag(ref), `FROM ${ref} is not pinned`).not.toBe('latest');
    }
    // The image `up` builds from it names the same versions.
    expect(CONNECT_IMAGE).toBe(`outboxctl/kafka-connect:${CONFLUENT_PLATFORM_VERSION}-debezium-${DEBEZIUM_VERSION.replace(/\.Final$/, '')}`);
    expect(dockerfile).toContain('confluentinc/kafka-connect-elasticsearch:${ES_SINK_VERSION}');
    expect(dockerfile).toContain('io.debezium:debezium-connector-postgres:${DEBEZIUM_VERSION}:tar.gz:plugin');
  });

  it('compose/docker-compose.yml runs every default image', () => {
    const compose = read('compose/docker-compose.yml');
    for (const image of [POSTGRES_IMAGE, KAFKA_IMAGE, ELASTICSEARCH_IMAGE, CONNECT_IMAGE]) expect(compose).toContain(`image: ${image}\n`);
  });

  const pins = [
    POSTGRES_IMAGE,
    KAFKA_IMAGE,
    ELASTICSEARCH_IMAGE,
    CONNECT_IMAGE,
    `confluentinc/cp-kafka-connect:${CONFLUENT_PLATFORM_VERSION}`,
    ES_SINK_VERSION,
    DEBEZIUM_VERSION,
  ];

  it('compose/README.md names every default image, base image and plugin version', () => {
    const readme = read('compose/README.md');
    const missing = [...pins, ...baseImages.filter((ref) => !/^\w+$/.test(ref))].filter((pin) => !readme.includes(pin));
    expect(missing, 'pins compose/README.md does not name').toEqual([]);
  });

  it('README.md names every default image and plugin version', () => {
    const readme = read('README.md');
    const missing = pins.filter((pin) => !readme.includes(pin));
    expect(missing, "pins README.md's table of default images does not name").toEqual([]);
  });
});
