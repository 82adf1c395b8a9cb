import { UserError } from '../lib/errors.js';
import { renderTemplate } from '../lib/template.js';

/** A connector as a file describes it, placeholders filled. */
export interface ConnectorSpec {
  name: string;
  /** The config Connect gets: every value a string, `name` included (Connect stores it so). */
  config: Record<string, string>;
  /** The file, as shown to the user. */
  file: string;
}

function malformed(file: string, what: string): UserError {
  return new UserError('CONNECTOR_FILE_INVALID', `${file} is not a connector file: ${what}.`, {
    hint: 'A connector file is {"name": "…", "config": {"connector.class": "…", …}}.',
  });
}

/**
 * Parses a connector file (`{"name", "config"}`) and fills its `${VAR}` placeholders in the
 * name and every config value. Values are filled after parsing, so no value can break the JSON.
 */
export function parseConnectorFile(text: string, file: string, vars: Record<string, string>): ConnectorSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UserError('CONNECTOR_FILE_INVALID', `${file} is not valid JSON: ${(error as Error).message.replace(/\.$/, '')}.`, {
      hint: 'A connector file is {"name": "…", "config": {"connector.class": "…", …}}.',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed(file, 'it is not a JSON object');
  const { name, config } = parsed as { name?: unknown; config?: unknown };
  if (typeof name !== 'string' || name.trim() === '') throw malformed(file, '"name" is missing or not a string');
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw malformed(file, '"config" is missing or not an object');
  const rendered = renderTemplate(name, vars, file);
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === 'number' || typeof value === 'boolean') values[key] = String(value);
    else if (typeof value === 'string') values[key] = renderTemplate(value, vars, file);
    else throw malformed(file, `config "${key}" is ${value === null ? 'null' : 'an object'}, not a string, number or boolean`);
  }
  if (values.name !== undefined && values.name !== rendered) throw malformed(file, `config "name" (${values.name}) differs from "name" (${rendered})`);
  if (!values['connector.class']) throw malformed(file, 'config has no "connector.class"');
  return { name: rendered, config: { ...values, name: rendered }, file };
}
