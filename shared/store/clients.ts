import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../config/env';

/**
 * SDK clients, created once per Lambda container. Endpoints come from the SDK's own
 * AWS_ENDPOINT_URL_DYNAMODB / _SQS / _S3 variables, which the local stack sets.
 *
 * Each is marked pure, so a function's bundle drops the clients it never uses (the SDK packages declare
 * no side effects): the click function carries no S3 client.
 */
export const dynamo = /* @__PURE__ */ withoutSdkLogger(new DynamoDBClient({}));

export const documentClient = /* @__PURE__ */ DynamoDBDocumentClient.from(dynamo, {
  marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
});

const pathStyle = process.env[ENV.s3ForcePathStyle] === 'true';

export const s3 = /* @__PURE__ */ withoutSdkLogger(
  new S3Client({
    forcePathStyle: pathStyle,
    // Emulators store aws-chunked bodies verbatim unless checksums are only sent when required.
    ...(pathStyle ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  }),
);

export const sqs = /* @__PURE__ */ withoutSdkLogger(new SQSClient({}));

/**
 * The SDK's logger middleware runs its log filter over every request and response even when nothing logs
 * (it calls the no-op logger with the filtered values): on the click path that was the largest single
 * CPU cost per call after signing. Nothing here reads the SDK's own logs; failures reach our logger.
 */
export function withoutSdkLogger<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
