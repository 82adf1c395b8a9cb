import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.js';

/** Replaces `${NAME}` placeholders; an unknown name is an error, never an empty string. */
export function renderTemplate(text: string, vars: Record<string, string | number>, source = 'template'): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
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
