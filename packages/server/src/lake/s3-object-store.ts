/**
 * `s3://bucket/prefix`: objects in an S3 bucket under an optional key prefix. Credentials and region come
 * from the usual AWS_* environment; `AWS_ENDPOINT_URL` points at an S3-compatible server (MinIO, s3rver…),
 * which then gets path-style addressing. A PutObject is atomic, so readers never see partial objects.
 *
 * Create-only puts: a HEAD first answers retries (same bytes) and refuses other bytes without writing; the
 * PutObject then carries `If-None-Match: *`, so S3 (and MinIO) refuse it if another writer created the key
 * in between. A server that ignores that header (s3rver, the test double) leaves a window between the HEAD
 * and the PUT in which two writers of different bytes both succeed and the last one wins.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { ObjectConflictError, ObjectNotFoundError, sameBytes, type ObjectStore, type PutResult } from './object-store.js';
import { assertValidKey } from './object-key.js';

export interface S3ObjectStoreOptions {
  /** overrides AWS_ENDPOINT_URL */
  endpoint?: string;
  /** extra client settings (credentials, region…) */
  client?: S3ClientConfig;
}

export function createS3ObjectStore(bucket: string, prefix: string, uri: string, opts: S3ObjectStoreOptions = {}): S3ObjectStoreHandle {
  const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const client = new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...opts.client,
  });
  const base = prefix.replace(/^\/+|\/+$/g, '');
  const full = (key: string) => {
    assertValidKey(key);
    return base ? `${base}/${key}` : key;
  };
  const strip = (k: string) => (base ? k.slice(base.length + 1) : k);
  return {
    uri,
    client,
    async put(key, body) {
      const k = full(key);
      /** 'same' or a conflict when the key exists, null when it does not */
      const compare = async (): Promise<PutResult | null> => {
        let etag: string | undefined;
        try {
          const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: k }));
          if (Number(h.ContentLength ?? -1) !== body.byteLength) throw new ObjectConflictError(key);
          etag = h.ETag;
        } catch (err) {
          if (isNotFound(err)) return null;
          throw err;
        }
        // a single-part, unencrypted upload's ETag is the MD5 of its bytes: a retry needs no download then
        if (etag === `"${createHash('md5').update(body).digest('hex')}"`) return 'same';
        try {
          const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
          if (sameBytes(await r.Body!.transformToByteArray(), body)) return 'same';
        } catch (err) {
          if (isNotFound(err)) return null;
          throw err;
        }
        throw new ObjectConflictError(key);
      };
      for (let attempt = 0; ; attempt++) {
        const found = await compare();
        if (found) return found;
        try {
          await client.send(
            new PutObjectCommand({ Bucket: bucket, Key: k, Body: body, ContentLength: body.byteLength, IfNoneMatch: '*' }),
          );
          return 'created';
        } catch (err) {
          // 412: created by someone else since the HEAD; 409: a concurrent conditional write is still in progress
          const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
          if ((status !== 412 && status !== 409) || attempt >= 4) throw err;
          if (status === 409) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
    },
    async get(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: full(key) }));
        return await r.Body!.transformToByteArray();
      } catch (err) {
        if (isNotFound(err)) throw new ObjectNotFoundError(key);
        throw err;
      }
    },
    async head(key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) }));
        return { size: Number(r.ContentLength ?? 0) };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk.map((k) => ({ Key: full(k) })), Quiet: true } }),
        );
      }
    },
    async *list(keyPrefix) {
      let token: string | undefined;
      const p = base ? `${base}/${keyPrefix}` : keyPrefix;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) yield { key: strip(o.Key), size: Number(o.Size ?? 0) };
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    },
    localPath: () => undefined,
    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      client.destroy();
    },
  };
}

/** the store plus its SDK client, for callers that need more than the `ObjectStore` surface */
export interface S3ObjectStoreHandle extends ObjectStore {
  readonly client: S3Client;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
