/**
 * The lakes the end-to-end tests run against: every PostgreSQL backend (PGlite, and the server when
 * SIRIUS_TEST_PG is set) × every object store (a file folder, and S3 through s3rver on loopback).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { pgBackends } from '../../../server/test/support/pg.js';

export interface LakeTarget {
  name: string;
  skip: string | false;
  open(): Promise<{ dataDir: string; sqlConnectionString?: string; objectStoreUri?: string; cleanup(): Promise<void> }>;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export const lakeTargets: LakeTarget[] = pgBackends.flatMap((pg) =>
  (['file', 's3'] as const).map((store) => ({
    name: `${pg.name}+${store}`,
    skip: pg.skip,
    async open() {
      const dataDir = await tempDir('sirius-tracing-e2e-');
      const db = await pg.create();
      let s3: S3rver | undefined;
      let objectStoreUri: string | undefined;
      if (store === 's3') {
        s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: join(dataDir, 's3rver'), silent: true, configureBuckets: [{ name: 'bucket' }] });
        const { port } = await s3.run();
        Object.assign(process.env, {
          AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          AWS_REGION: 'us-east-1',
        });
        objectStoreUri = 's3://bucket/prefix';
      }
      return {
        dataDir,
        sqlConnectionString: db.connectionString,
        objectStoreUri,
        async cleanup() {
          await s3?.close();
          await db.drop();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  })),
);
