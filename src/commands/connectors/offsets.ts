import { UserError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';

// Work in progress on issue 6: replaced by the real handler before the issue is resolved.
export default async function run(_ctx: CommandContext): Promise<void> {
  throw new UserError('NOT_IMPLEMENTED', 'The connectors commands are not finished yet.', { hint: 'Use the Connect REST API directly until then.' });
}
