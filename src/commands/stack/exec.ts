import { execInService } from '../../stack/exec.js';
import type { CommandContext } from '../context.js';

/** `outboxctl exec SERVICE -- CMD…`: CMD's exit code is outboxctl's, as with `docker compose exec`. */
export default async function run(ctx: CommandContext, service?: string, ...command: string[]): Promise<number> {
  return execInService({ paths: ctx.stack, service, command, io: ctx.io });
}
