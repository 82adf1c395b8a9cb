import { type ArtifactSet, artifactDir, resolveArtifactSet } from '../../stack/artifacts.js';
import { availableServices, component } from '../../stack/components/index.js';
import type { CommandContext } from '../context.js';

export default async function run(ctx: CommandContext): Promise<void> {
  const sets = new Map<string, ArtifactSet>();
  for (const s of availableServices()) for (const set of component(s).native.artifactSets ?? []) sets.set(set.id, set);
  const resolved: { id: string; dir: string }[] = [];
  for (const set of sets.values()) {
    const dir = await resolveArtifactSet(set, { env: ctx.io.env, onProgress: (m) => ctx.out.info(m) });
    resolved.push({ id: set.id, dir });
  }
  if (ctx.json) {
    ctx.out.document({ artifacts: resolved });
    return;
  }
  for (const r of resolved) ctx.out.result(`${r.id}  ${r.dir}`);
  ctx.out.info(`All artifacts are in ${artifactDir(ctx.io.env, [...sets.values()][0]!).replace(/\/[^/]+$/, '')}; \`up\` resolves nothing more.`);
}
