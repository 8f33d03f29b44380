/**
 * Large states in an S3-compatible bucket. A checkpoint whose JSON passes
 * `thresholdBytes` is uploaded first, under a key named by its sha256
 * (content addressed: the same state twice is one object), and only then is
 * its row written, holding the key instead of the payload: a crash between
 * the two leaves an unreferenced object, never a row without its state. A
 * read verifies the object's bytes against the row's checksum. Objects no
 * row references any more are collected with retention (after a grace
 * period that covers uploads whose row has not committed yet).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { checksumOf } from './payload.ts';
import { StoreUnavailableError } from './errors.ts';

export interface BlobsConfig {
  store: 's3';
  endpoint?: string;
  bucket: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Names of the environment variables holding the credentials (defaults: the AWS SDK's own). */
  accessKeyIdEnv?: string;
  secretAccessKeyEnv?: string;
  /** States larger than this many bytes go to the bucket (default 262144). */
  thresholdBytes?: number;
  /** Key prefix inside the bucket (default "faultline/checkpoints/"). */
  prefix?: string;
}

export const DEFAULT_BLOB_THRESHOLD = 262_144;
/** Unreferenced objects younger than this are kept: their rows may be about to commit. */
export const BLOB_GRACE_MS = 10 * 60_000;

/** The checkpoints' bucket. */
export class Blobs {
  readonly threshold: number;
  readonly bucket: string;
  private readonly prefix: string;
  private client: S3Client | undefined;
  private s3: typeof import('@aws-sdk/client-s3') | undefined;

  constructor(readonly cfg: BlobsConfig, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.threshold = cfg.thresholdBytes ?? DEFAULT_BLOB_THRESHOLD;
    this.bucket = cfg.bucket;
    this.prefix = cfg.prefix ?? 'faultline/checkpoints/';
  }

  /** Where the bucket is, for messages. */
  get where(): string {
    return `${this.cfg.endpoint ?? 'aws'} (bucket ${this.bucket})`;
  }

  /** The key a payload with this checksum is stored under. */
  keyOf(checksum: string): string {
    return this.prefix + checksum;
  }

  /** The `s3://bucket/key` a row shows. */
  url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  private async connect() {
    if (this.client) return { client: this.client, s3: this.s3! };
    const s3 = (this.s3 = await import('@aws-sdk/client-s3'));
    const id = this.cfg.accessKeyIdEnv ? this.env[this.cfg.accessKeyIdEnv] : undefined;
    const secret = this.cfg.secretAccessKeyEnv ? this.env[this.cfg.secretAccessKeyEnv] : undefined;
    this.client = new s3.S3Client({
      endpoint: this.cfg.endpoint,
      region: this.cfg.region ?? 'us-east-1',
      forcePathStyle: this.cfg.forcePathStyle,
      credentials: id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 15000 } as never,
    });
    return { client: this.client, s3 };
  }

  private unavailable(e: unknown): StoreUnavailableError {
    return new StoreUnavailableError('S3 blob', this.cfg.endpoint ?? 'https://s3.amazonaws.com', `bucket ${this.bucket}: ${(e as Error).message || (e as Error).name}`);
  }

  /** Checks the bucket answers (at start: a store unreachable at start is refused). */
  async check(): Promise<void> {
    const { client, s3 } = await this.connect();
    try {
      await client.send(new s3.HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  /** Uploads a payload (once: an object already there has the same bytes); returns its key. */
  async put(payload: string, checksum: string): Promise<string> {
    const { client, s3 } = await this.connect();
    const key = this.keyOf(checksum);
    try {
      await client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: payload, ContentType: 'application/json' }));
    } catch (e) {
      throw this.unavailable(e);
    }
    return key;
  }

  /** The object's bytes; `null` when it is missing (the row is then as good as corrupt). */
  async get(key: string): Promise<Uint8Array | null> {
    const { client, s3 } = await this.connect();
    try {
      const r = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw this.unavailable(e);
    }
  }

  /** Overwrites an object's bytes (fault injection: a damaged blob). */
  async overwrite(key: string, body: Uint8Array | string): Promise<void> {
    const { client, s3 } = await this.connect();
    try {
      await client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  /**
   * Deletes the objects under the prefix that no row references and that are
   * older than `graceMs`; returns how many went.
   */
  async collect(referenced: Set<string>, now = Date.now(), graceMs = BLOB_GRACE_MS): Promise<number> {
    const { client, s3 } = await this.connect();
    let token: string | undefined;
    const doomed: string[] = [];
    try {
      do {
        const r = await client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) {
          if (!o.Key || referenced.has(o.Key)) continue;
          if (o.LastModified && now - o.LastModified.getTime() < graceMs) continue;
          doomed.push(o.Key);
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      for (let i = 0; i < doomed.length; i += 1000) {
        const chunk = doomed.slice(i, i + 1000);
        // One DeleteObject per key: s3rver and some S3-compatible servers lack the multi-object delete's checksum support.
        await Promise.all(chunk.map((Key) => client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key }))));
      }
    } catch (e) {
      throw this.unavailable(e);
    }
    return doomed.length;
  }

  private collector: NodeJS.Timeout | undefined;

  /**
   * Collects unreferenced objects now (in the background) and every
   * `everyMs` after; `referenced` reads the keys the store's rows hold.
   * Failures wait for the next round: a collection never blocks a write.
   */
  startCollecting(referenced: () => Promise<Set<string>>, everyMs = 10 * 60_000, onError?: (e: Error) => void): void {
    if (this.collector) return;
    const run = () => {
      referenced()
        .then((keys) => this.collect(keys))
        .catch((e: Error) => onError?.(e));
    };
    this.collector = setInterval(run, everyMs);
    this.collector.unref();
    setImmediate(run);
  }

  close(): void {
    if (this.collector) clearInterval(this.collector);
    this.collector = undefined;
    this.client?.destroy();
    this.client = undefined;
  }
}

/** A row's payload as stored: the JSON itself, or a blob key with an empty payload. */
export interface Sealed {
  payload: string;
  blob: string | null;
}

/** Moves a large payload to the bucket (when there is one); the row then keeps only the key. */
export async function seal(blobs: Blobs | undefined, payload: string, checksum: string, size: number): Promise<Sealed> {
  if (!blobs || size <= blobs.threshold) return { payload, blob: null };
  return { payload: '', blob: await blobs.put(payload, checksum) };
}

/** The bytes to verify for a row: its payload, or its blob's (null: the blob is missing). */
export async function unseal(blobs: Blobs | undefined, row: { payload: string | Uint8Array; blob?: string | null }, where: string): Promise<string | Uint8Array | null> {
  if (!row.blob) return row.payload;
  if (!blobs) throw new Error(`a checkpoint in ${where} is kept in the blob bucket ${row.blob}, but checkpoints.blobs is not configured`);
  return blobs.get(row.blob);
}

/** Whether a payload's bytes match the checksum (for a blob read back). */
export function matches(bytes: Uint8Array | string, checksum: string): boolean {
  return checksumOf(bytes) === checksum;
}
