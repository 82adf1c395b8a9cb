import { execInService } from '../../stack/exec.js';
import { type CommandContext, refuseOnContext } from '../context.js';

/** `outboxctl exec SERVICE -- CMD…`: CMD's exit code is outboxctl's, as with `docker compose exec`. */
export default async function run(ctx: CommandContext, service?: string, ...command: string[]): Promise<number> {
  refuseOnContext(ctx, 'exec');
  return execInService({ paths: ctx.stack, service, command, io: ctx.io });
}
