import { AwsServiceError, errorBodyOf, errorCodeOf, type ResponseMetadata } from './errors';
import { AwsWire, type Interceptor, InterceptorChain, type WireOptions, type WireResponse } from './wire';

/** SQS over the JSON protocol (AmazonSQS, awsJson 1.0) on our own wire: the one command the runtime sends. */

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface SendMessageCommandInput {
  QueueUrl: string | undefined;
  MessageBody: string | undefined;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}
export interface SendMessageCommandOutput {
  MessageId?: string;
  MD5OfMessageBody?: string;
  SequenceNumber?: string;
}

export class SendMessageCommand {
  declare readonly outputShape?: SendMessageCommandOutput;
  readonly commandName = 'SendMessageCommand';
  readonly operation = 'SendMessage';
  constructor(readonly input: SendMessageCommandInput) {}
}

export type QueueCommand = SendMessageCommand;

/** Any SQS error; `name` is the service's error code (`QueueDoesNotExist`, `InvalidParameterValue`, …). */
export class SQSServiceException extends AwsServiceError {}

export class SQSClient {
  private readonly wire: AwsWire;
  private readonly interceptors = new InterceptorChain<QueueCommand>();

  constructor(options: WireOptions = {}) {
    this.wire = new AwsWire('sqs', options);
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.wire.destroy();
  }

  intercept(interceptor: Interceptor<QueueCommand>): () => void {
    return this.interceptors.add(interceptor);
  }

  send(command: SendMessageCommand): Promise<SendMessageCommandOutput> {
    return this.interceptors.run(command, async () => {
      const response = await this.wire.call(
        {
          method: 'POST',
          path: '/',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `AmazonSQS.${command.operation}`,
          },
          body: JSON.stringify(command.input),
        },
        readSqsError,
      );
      return JSON.parse(response.body.toString('utf8')) as SendMessageCommandOutput;
    });
  }
}

function readSqsError(response: WireResponse, metadata: ResponseMetadata): SQSServiceException {
  const body = errorBodyOf(response.body);
  const message = String(body.message ?? body.Message ?? `SQS answered ${response.status}`);
  return new SQSServiceException(errorCodeOf(response, body), message, metadata);
}
