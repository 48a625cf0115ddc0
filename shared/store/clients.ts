import { ENV } from '../config/env';
import { DynamoDBDocumentClient } from './aws/dynamodb';
import { S3Reader } from './aws/s3';
import { SQSClient } from './aws/sqs';

/**
 * The clients, created once per Lambda container, on our own wire client (./aws): a fraction of the AWS SDK's
 * CPU per call and of its bundle. Endpoints come from AWS_ENDPOINT_URL_DYNAMODB / _SQS / _S3 (the local stack
 * sets them), credentials and region from the Lambda environment. The SDK's S3 client for exports is in
 * ./s3Sdk.ts.
 */
export const documentClient = new DynamoDBDocumentClient();

export const sqs = new SQSClient();

/** Reads of single objects on the request path (the intel snapshot). */
export const s3Reader = new S3Reader({ forcePathStyle: process.env[ENV.s3ForcePathStyle] === 'true' });
