/** `checkpoints` in the config: where and how agent state is stored. */
import { z } from 'zod';

export const summarizeSchema = z
  .object({
    maxBytes: z.number().int().min(1_024).max(64 * 1_048_576).optional().describe("Compact an agent's state when its JSON passes this many bytes (default 65536)"),
    maxEntries: z.number().int().min(1).max(1_000_000).optional().describe('Compact when a "history" or "messages" array passes this many entries (default 200)'),
    keepLast: z.number().int().min(0).max(1_000_000).optional().describe('Entries the default compaction keeps of each such array, behind a summary marker (default 50)'),
    model: z
      .string()
      .min(1)
      .optional()
      .describe('A model chain (or model dependency) that summarizes the entries the default compaction drops; the summary is kept in the marker. Without it, or when the model fails, the marker only counts them'),
  })
  .strict();

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable');

export const blobsSchema = z
  .object({
    store: z.literal('s3').describe('An S3-compatible bucket (AWS S3, MinIO, s3rver, …)'),
    endpoint: z.url().optional().describe('The server, e.g. http://127.0.0.1:4569 (default: AWS S3)'),
    bucket: z.string().min(3).max(63).describe('The bucket; it must exist'),
    region: z.string().min(1).optional().describe('Default us-east-1'),
    forcePathStyle: z.boolean().optional().describe('Path-style URLs (http://host/bucket/key), as most S3-compatible servers need'),
    accessKeyIdEnv: envName.optional().describe('The environment variable holding the access key id (default: the AWS SDK\'s own lookup)'),
    secretAccessKeyEnv: envName.optional().describe('The environment variable holding the secret access key'),
    thresholdBytes: z.number().int().min(0).max(1_073_741_824).optional().describe('States larger than this go to the bucket; the row keeps a pointer (default 262144)'),
    prefix: z.string().max(512).optional().describe('Key prefix in the bucket (default faultline/checkpoints/)'),
  })
  .strict();

export const checkpointsSchema = z
  .object({
    store: z
      .enum(['sqlite', 'postgres', 'redis', 'memory'])
      .optional()
      .describe('sqlite (default, embedded), postgres, redis, or memory (lost on exit)'),
    url: z.string().min(1).optional().describe('postgres:// or redis:// URL of a server store, without a password (credentials come from the environment: use urlEnv)'),
    urlEnv: envName.optional().describe('The environment variable holding the server store\'s URL (credentials included)'),
    schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier').optional().describe('postgres: the schema holding the tables (default faultline)'),
    prefix: z.string().min(1).max(200).optional().describe('redis: the prefix of every key (default faultline:<name>:)'),
    blobs: blobsSchema.optional().describe('Move large states to an S3-compatible bucket'),
    path: z.string().optional().describe('SQLite file, relative to the config file (default .faultline/checkpoints.db)'),
    synchronous: z
      .enum(['NORMAL', 'FULL'])
      .optional()
      .describe('NORMAL (default) survives any crash of the process; FULL also survives power loss, at an fsync per commit'),
    retain: z.number().int().min(1).max(100_000).optional().describe('Checkpoints kept per agent; the newest valid one is always kept (default 20)'),
    retainMaxAgeMs: z.number().int().min(0).max(31_536_000_000).optional().describe('Also keep every checkpoint younger than this (default 0: off)'),
    groupCommitMs: z.number().int().min(0).max(100).optional().describe('Wait this long for more writes to share a transaction; 0 waits one event-loop turn (default 0)'),
    summarize: summarizeSchema.optional().describe('When a state is compacted and a summary checkpoint written'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const server = c.store === 'postgres' || c.store === 'redis';
    if (server && !c.url && !c.urlEnv) ctx.addIssue({ code: 'custom', path: ['url'], message: `a "${c.store}" store needs url or urlEnv` });
    if (server && c.url && c.urlEnv) ctx.addIssue({ code: 'custom', path: ['urlEnv'], message: 'give url or urlEnv, not both' });
    if (!server) {
      for (const k of ['url', 'urlEnv'] as const) if (c[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `only a postgres or redis store takes ${k}` });
    }
    if (server && c.path !== undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: `a "${c.store}" store takes no path (it is for sqlite)` });
    if (c.url) {
      let u: URL | undefined;
      try {
        u = new URL(c.url);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'must be a URL' });
      }
      const want = c.store === 'redis' ? ['redis:', 'rediss:'] : ['postgres:', 'postgresql:'];
      if (u && server && !want.includes(u.protocol)) ctx.addIssue({ code: 'custom', path: ['url'], message: `a "${c.store}" store needs a ${want.join(' or ')}// URL` });
      if (u?.password) ctx.addIssue({ code: 'custom', path: ['url'], message: 'holds a password: keep credentials out of the config file; put the URL in an environment variable and name it in urlEnv' });
    }
    if (c.schema !== undefined && c.store !== 'postgres') ctx.addIssue({ code: 'custom', path: ['schema'], message: 'only a postgres store takes schema' });
    if (c.prefix !== undefined && c.store !== 'redis') ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'only a redis store takes prefix' });
    if (c.blobs && c.store === 'memory') ctx.addIssue({ code: 'custom', path: ['blobs'], message: 'a memory store keeps no blobs' });
  });

export type CheckpointsConfig = z.infer<typeof checkpointsSchema>;
