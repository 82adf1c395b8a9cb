import { readFile } from 'node:fs/promises';
import type { SearchClient } from '../clients/search.js';
import { templatePath } from '../lib/template.js';

/** The projection index of the embedded sink: one document per parcel, its latest state. */
export const PARCELS_INDEX = 'parcels';

/**
 * Installs (or updates) the index templates of templates/elasticsearch/index-templates.json, so the
 * first document of each index already gets keyword/date fields; returns their names. One file for
 * every engine: composable (`_index_template`) on Elasticsearch 7.8+ and OpenSearch, the same
 * settings and mappings as a legacy `_template` on an older Elasticsearch (see SearchClient).
 */
export async function installIndexTemplates(search: SearchClient): Promise<string[]> {
  const templates = JSON.parse(await readFile(templatePath('elasticsearch/index-templates.json'), 'utf8')) as Record<
    string,
    { index_patterns: string[]; template: Record<string, unknown> }
  >;
  for (const [name, t] of Object.entries(templates)) await search.ensureIndexTemplate(name, t.index_patterns, t.template);
  return Object.keys(templates);
}
