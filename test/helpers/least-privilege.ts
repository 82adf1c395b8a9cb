import { execa } from 'execa';
import { expect } from 'vitest';
import { withPg } from '../../src/clients/pg.js';

/** Every table privilege PostgreSQL knows (MAINTAIN since 17). */
const PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

/**
 * What `role` holds on each table of the public schema, by has_table_privilege (table level: a
 * column grant does not count), with the facts that make a role more than its grants.
 */
export async function roleFacts(ownerUrl: string, role: string) {
  return withPg(ownerUrl, async (c) => {
    const version = Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v);
    const privileges = version >= 170_000 ? [...PRIVILEGES, 'MAINTAIN'] : PRIVILEGES;
    const { rows: tables } = await c.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    const grants: Record<string, string[]> = {};
    for (const { name } of tables) {
      grants[name] = [];
      for (const p of privileges) {
        const { rows } = await c.query<{ ok: boolean }>('SELECT has_table_privilege($1, $2, $3) AS ok', [role, `public.${name}`, p]);
        if (rows[0]!.ok) grants[name]!.push(p);
      }
    }
    const { rows: attrs } = await c.query<Record<string, boolean>>(
      'SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1',
      [role],
    );
    const { rows: owned } = await c.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1
       UNION ALL SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = $1
       UNION ALL SELECT d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1`,
      [role],
    );
    const { rows: schema } = await c.query<{ usage: boolean; create: boolean }>(
      "SELECT has_schema_privilege($1, 'public', 'USAGE') AS usage, has_schema_privilege($1, 'public', 'CREATE') AS create",
      [role],
    );
    const { rows: outboxId } = await c.query<{ ok: boolean }>("SELECT has_column_privilege($1, 'public.outbox', 'id', 'SELECT') AS ok", [role]);
    return { grants, attributes: attrs[0], owned: owned.map((o) => o.name), schema: schema[0]!, selectOutboxId: outboxId[0]!.ok };
  });
}

export interface Listener {
  local: string;
  address: string;
  port: number;
  pids: number[];
  line: string;
}

/** `ss -ltnpH`: every TCP socket listening on this machine, with the pids holding it. */
export async function listeners(): Promise<Listener[]> {
  const { stdout } = await execa('ss', ['-ltnpH']);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const local = line.trim().split(/\s+/)[3]!;
      const at = local.lastIndexOf(':');
      return {
        local,
        address: local.slice(0, at),
        port: Number(local.slice(at + 1)),
        pids: [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])),
        line: line.trim(),
      };
    });
}

/** The pids of these process groups and of every descendant of theirs (a process may leave its leader's group). */
export async function processTree(leaders: number[]): Promise<Set<number>> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,pgid=,ppid=']);
  const rows = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  const mine = new Set<number>(leaders);
  for (const [pid, pgid] of rows) if (mine.has(pgid)) mine.add(pid);
  for (let grown = true; grown; ) {
    grown = false;
    for (const [pid, , ppid] of rows)
      if (mine.has(ppid) && !mine.has(pid)) {
        mine.add(pid);
        grown = true;
      }
  }
  return mine;
}

/** Loopback as ss prints it; a JVM's dual-stack socket bound to 127.0.0.1 shows as [::ffff:127.0.0.1]. */
export const isLoopback = (address: string) => ['127.0.0.1', '[::1]', '[::ffff:127.0.0.1]'].includes(address) || /^127\.\d+\.\d+\.\d+$/.test(address);

/** Every answer of Connect's REST API that could show a connector's config, as text (each must be 200). */
export async function connectorAnswers(connectUrl: string, name: string): Promise<Record<'config' | 'tasks' | 'status' | 'expanded', string>> {
  const rest = async (url: string) => {
    const response = await fetch(`${connectUrl}${url}`);
    expect(response.status, url).toBe(200);
    return response.text();
  };
  return {
    config: await rest(`/connectors/${name}/config`),
    tasks: await rest(`/connectors/${name}/tasks`),
    status: await rest(`/connectors/${name}/status`),
    expanded: await rest('/connectors?expand=info&expand=status'),
  };
}
