import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.js';

/**
 * `${NAME}`: upper-case letters, digits and `_` only. Kafka's own config-provider references
 * (`${file:PATH:KEY}`, `${dir:PATH:KEY}`, any `${provider:…}` with a colon, KIP-297) never match:
 * they reach Kafka Connect as written and the worker resolves them. A `${NAME}` inside one (the
 * path) is still filled.
 */
const PLACEHOLDER = /\$\{([A-Z0-9_]+)\}/g;

/** Replaces `${NAME}` placeholders; an unknown name is an error, never an empty string. Config-provider references stay as they are. */
export function renderTemplate(text: string, vars: Record<string, string | number>, source = 'template'): string {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      throw new UserError('TEMPLATE_VARIABLE', `${source} uses \${${name}}, which has no value.`, {
        hint: `Set ${name} in the environment, or remove the placeholder.`,
      });
    }
    return String(value);
  });
}

/** A file or directory of the installed package (`compose/connect`, `templates/…`). */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}

/** A file of the package's templates/ directory. */
export function templatePath(relative: string): string {
  return packagePath(`templates/${relative}`);
}

export async function renderTemplateFile(relative: string, vars: Record<string, string | number>): Promise<string> {
  return renderTemplate(await readFile(templatePath(relative), 'utf8'), vars, `templates/${relative}`);
}
