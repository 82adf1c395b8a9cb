import { z } from 'zod';
import { SASL_MECHANISMS } from '../lib/targets.js';
import { CONTEXT_NAME, LOCAL } from './names.js';
import { parseSecretRef } from './secret.js';

// The config file's schema (docs/contexts.md). Keys are kebab-case, as kcctl's and rpk's files;
// every object is strict, so a misspelt key is an error on its line rather than silently ignored.

export const CONFIG_VERSION = 1;

const isUrl = (text: string, protocols: string[]): boolean => {
  try {
    return protocols.includes(new URL(text).protocol);
  } catch {
    return false;
  }
};

/** host:port[,host:port…] with a port number each (IPv6 hosts in brackets). */
export function isBootstrapList(text: string): boolean {
  return text.split(',').every((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(entry.trim());
    return match !== null && Number(match[2]) > 0 && Number(match[2]) <= 65_535;
  });
}

/** A secret field: a reference or a literal; the message never repeats the text (it may be the secret). */
const secret = z.string().superRefine((text, ctx) => {
  try {
    parseSecretRef(text, 'it');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^it /, '') });
  }
});

const file = z.string().min(1, 'is empty');
const httpUrl = z.string().refine((u) => isUrl(u, ['http:', 'https:']), 'is not an http:// or https:// URL');

const kafkaTls = z.strictObject({
  'ca-file': file.optional(),
  'cert-file': file.optional(),
  'key-file': file.optional(),
  'verify-hostname': z.boolean().optional(),
});

const kafka = z
  .strictObject({
    'bootstrap-servers': z.string().refine(isBootstrapList, 'is not a list of host:port'),
    // `tls: true` is TLS with Node's certificate authorities; `tls: {…}` sets them.
    tls: z.union([z.boolean(), kafkaTls]).optional(),
    sasl: z
      .strictObject({
        mechanism: z.enum(SASL_MECHANISMS, { error: `is not one of ${SASL_MECHANISMS.join(', ')}` }),
        username: z.string().min(1, 'is empty'),
        password: secret,
      })
      .optional(),
  })
  .superRefine((k, ctx) => {
    const tls = typeof k.tls === 'object' ? k.tls : undefined;
    if (tls?.['cert-file'] && !tls['key-file'])
      ctx.addIssue({ code: 'custom', path: ['tls', 'key-file'], message: 'is missing: a client certificate needs its key' });
    if (tls?.['key-file'] && !tls['cert-file'])
      ctx.addIssue({ code: 'custom', path: ['tls', 'cert-file'], message: 'is missing: a client key needs its certificate' });
  });

const httpTls = z.strictObject({ 'ca-file': file.optional() });

/** Basic auth: a username and a password, or neither. */
const basicPair = (e: { username?: string; password?: string }, ctx: z.RefinementCtx) => {
  if (e.username !== undefined && e.password === undefined)
    ctx.addIssue({ code: 'custom', path: ['password'], message: 'is missing: basic auth needs a username and a password' });
  if (e.password !== undefined && e.username === undefined)
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'is missing: basic auth needs a username and a password' });
};

const connect = z
  .strictObject({ url: httpUrl, username: z.string().min(1, 'is empty').optional(), password: secret.optional(), tls: httpTls.optional() })
  .superRefine(basicPair);

const elasticsearch = z
  .strictObject({
    url: httpUrl,
    username: z.string().min(1, 'is empty').optional(),
    password: secret.optional(),
    'api-key': secret.optional(),
    tls: httpTls.optional(),
  })
  .superRefine((e, ctx) => {
    basicPair(e, ctx);
    if (e['api-key'] !== undefined && e.username !== undefined)
      ctx.addIssue({ code: 'custom', path: ['api-key'], message: 'and basic auth exclude each other: give one' });
  });

const server = z.strictObject({ url: httpUrl, token: secret.optional() });

const database = z.strictObject({
  url: z.string().refine((u) => isUrl(u, ['postgres:', 'postgresql:']), 'is not a postgres:// or postgresql:// URL'),
  password: secret.optional(),
});

export const contextSchema = z.strictObject({
  kafka: kafka.optional(),
  connect: connect.optional(),
  elasticsearch: elasticsearch.optional(),
  database: database.optional(),
  tracking: server.optional(),
  auditing: server.optional(),
});

/** One context as the config file stores it. */
export type StoredContext = z.infer<typeof contextSchema>;

export const configSchema = z.strictObject({
  version: z.literal(CONFIG_VERSION, { error: `is not ${CONFIG_VERSION}, the only version this outboxctl reads` }).optional(),
  'current-context': z
    .string()
    .refine((n) => CONTEXT_NAME.test(n), 'is not a context name')
    .nullable()
    .optional(),
  contexts: z
    .record(
      z.string().refine((n) => CONTEXT_NAME.test(n) && n !== LOCAL, 'is not a context name (1-64 letters, digits, ".", "_" or "-"; not "local")'),
      contextSchema,
    )
    .nullable()
    .optional(),
});

export type StoredConfig = z.infer<typeof configSchema>;

export interface SchemaIssue {
  /** Keys from the document's root: ['contexts', 'staging', 'kafka', 'sasl', 'mechanism']. */
  path: (string | number)[];
  /** What is wrong, after the field's name: `is not one of plain, …`. */
  message: string;
}

/** Zod's messages, reworded to follow a field's name. */
function wording(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return issue.input === undefined ? 'is missing' : `is not a ${issue.expected === 'object' ? 'mapping' : issue.expected}`;
  if (issue.code === 'unrecognized_keys') return 'is not a known key';
  if (issue.code === 'invalid_union') return 'is not true, false or a mapping';
  return issue.message.replace(/\.$/, '');
}

/** The first problem of a document, with its path; undefined when it is valid. */
export function firstIssue(schema: z.ZodType, input: unknown): SchemaIssue | undefined {
  const result = schema.safeParse(input);
  if (result.success) return undefined;
  // A misspelt key also leaves the right one missing: the misspelling is the better report.
  const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') return { path: [...path, issue.keys[0]!], message: wording(issue) };
  if (issue.code === 'invalid_key') return { path, message: 'is not a context name (1-64 letters, digits, ".", "_" or "-"; not "local")' };
  return { path, message: wording(issue) };
}
