import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../config/env';

/**
 * The AWS SDK's S3 client, for what our wire client does not do: multipart uploads and presigned links of
 * exports, and the intel refresh's writes — all off the click path, which reads S3 through `s3Reader`
 * (./clients.ts). Kept out of clients.ts so a function that never writes S3 does not bundle the SDK.
 */
const pathStyle = process.env[ENV.s3ForcePathStyle] === 'true';

export const s3 = withoutSdkLogger(
  new S3Client({
    forcePathStyle: pathStyle,
    // Emulators store aws-chunked bodies verbatim unless checksums are only sent when required.
    ...(pathStyle ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  }),
);

/**
 * The SDK's logger middleware runs its log filter over every request and response even when nothing logs
 * (it calls the no-op logger with the filtered values). Nothing here reads the SDK's own logs; failures reach
 * our logger.
 */
function withoutSdkLogger<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
