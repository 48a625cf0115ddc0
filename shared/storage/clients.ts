import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../config/env';

/**
 * SDK clients, created once per Lambda container. Endpoints come from the SDK's own
 * AWS_ENDPOINT_URL_DYNAMODB / _SQS / _S3 variables, which the local stack sets.
 */
export const dynamo = new DynamoDBClient({});

export const documentClient = DynamoDBDocumentClient.from(dynamo, {
  marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
});

const pathStyle = process.env[ENV.s3ForcePathStyle] === 'true';

export const s3 = new S3Client({
  forcePathStyle: pathStyle,
  // Emulators store aws-chunked bodies verbatim unless checksums are only sent when required.
  ...(pathStyle ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
});

export const sqs = new SQSClient({});
