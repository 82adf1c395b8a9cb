import { UsageError } from '../../lib/errors.js';
import { parseServices } from '../../stack/components/index.js';
import type { ServiceName } from '../../stack/components/types.js';

/** SERVICE… arguments: at least one, each a known, available service. */
export function serviceArgs(args: string[], verb: string): ServiceName[] {
  if (args.length === 0) throw new UsageError(`Name the services to ${verb}.`, { hint: `e.g. outboxctl ${verb} kafka` });
  return parseServices(args.join(','))!;
}
