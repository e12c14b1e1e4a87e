/**
 * Points the AWS SDK of this process at an S3-compatible server on loopback (s3rver in tests): the
 * endpoint, and the fixed credentials and region s3rver accepts.
 */
export function useS3Endpoint(endpoint: string): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  });
}
