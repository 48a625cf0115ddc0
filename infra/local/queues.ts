import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ENV } from '../../shared/config/env';
import { definedOnly } from '../../shared/optional';
import { type QueueConsumerId, queueConsumers } from '../../shared/routes';
import { handlerExists, invoke, type LambdaHandler, loadHandler } from './lambda';

/**
 * The SQS event source mapping of the stack, locally: long-polls a queue, hands batches to the
 * consumer as an SQSEvent, deletes the records it did not report in `batchItemFailures` and leaves
 * the failed ones to come back after the visibility timeout — so the queue's redrive policy moves
 * poison messages to the DLQ, as on AWS.
 */
interface QueuePollerOptions {
  readonly name: string;
  readonly queueUrl: string;
  readonly handler: LambdaHandler;
  readonly batchSize: number;
  /** Default: looked up from the queue. */
  readonly queueArn?: string;
  /** Long-poll wait; stop() waits for the current poll, so keep it short. Default 2 s. */
  readonly waitTimeSeconds?: number;
  /** The consumer's time limit (Lambda timeout). Default 60 s. */
  readonly timeoutMs?: number;
  readonly sqs?: SQSClient;
  readonly onError?: (error: Error) => void;
}

export interface Poller {
  stop(): Promise<void>;
}

export function pollQueue(options: QueuePollerOptions): Poller {
  const sqs = options.sqs ?? new SQSClient({});
  let stopped = false;
  const report = (error: unknown) =>
    options.onError?.(error instanceof Error ? error : new Error(`${options.name}: ${String(error)}`));

  const loop = async () => {
    const queueArn = options.queueArn ?? (await lookupArn(sqs, options.queueUrl));
    while (!stopped) {
      let messages: Message[];
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: Math.min(10, options.batchSize),
            WaitTimeSeconds: options.waitTimeSeconds ?? 2,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (stopped) break;
        report(error);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (messages.length === 0) continue;
      await deliver(sqs, options, messages, queueArn).catch(report);
    }
  };
  const running = loop().catch(report);
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

export async function deliver(sqs: SQSClient, options: QueuePollerOptions, messages: Message[], queueArn: string) {
  const event: SQSEvent = { Records: messages.map((message) => sqsRecord(message, queueArn)) };
  let failed: Set<string>;
  try {
    const result = await invoke<SQSBatchResponse | undefined>(
      options.handler,
      event,
      options.name,
      options.timeoutMs ?? 60_000,
    );
    const ids = new Set(messages.map((m) => m.MessageId));
    const reported = (result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
    // Lambda treats an identifier that is not in the batch as a failure of the whole batch.
    failed = reported.every((id) => ids.has(id)) ? new Set(reported) : (ids as Set<string>);
  } catch (error) {
    options.onError?.(error as Error);
    failed = new Set(messages.map((m) => m.MessageId!));
  }
  const done = messages.filter((message) => !failed.has(message.MessageId!));
  for (let i = 0; i < done.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.slice(i, i + 10).map((message, j) => ({ Id: String(j), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
  }
}

function sqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...definedOnly({
        MessageGroupId: attributes.MessageGroupId,
        MessageDeduplicationId: attributes.MessageDeduplicationId,
      }),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          stringValue: value.StringValue,
          binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
          stringListValues: value.StringListValues ?? [],
          binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: process.env.AWS_REGION ?? 'us-east-1',
  };
}

async function lookupArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return result.Attributes!.QueueArn!;
}

interface QueuePollersOptions {
  /** Replaces consumers of the route table (tests inject their own). */
  readonly handlers?: Partial<Record<QueueConsumerId, LambdaHandler>>;
  /** Queue URLs by queue name; default: the QUEUE_URL_* variables. */
  readonly queueUrls?: Partial<Record<string, string>>;
  readonly waitTimeSeconds?: number;
  readonly onError?: (consumer: QueueConsumerId, error: Error) => void;
}

/** One poller per consumer of shared/routes.ts; consumers whose file does not exist yet are skipped. */
export function startQueuePollers(options: QueuePollersOptions = {}): Poller {
  const sqs = new SQSClient({});
  const pollers: Poller[] = [];
  for (const [id, def] of Object.entries(queueConsumers) as [
    QueueConsumerId,
    (typeof queueConsumers)[QueueConsumerId],
  ][]) {
    const injected = options.handlers?.[id];
    if (!injected && !handlerExists(def.handler)) continue;
    const queueUrl = options.queueUrls?.[def.queue] ?? process.env[ENV.queueUrl[def.queue]];
    if (!queueUrl) throw new Error(`${ENV.queueUrl[def.queue]} is not set`);
    pollers.push(
      pollQueue({
        name: id,
        queueUrl,
        handler: injected ?? loadHandler(def.handler),
        batchSize: def.batchSize,
        waitTimeSeconds: options.waitTimeSeconds,
        timeoutMs: def.visibilityTimeoutSeconds * 1000,
        sqs,
        onError: (error) => options.onError?.(id, error),
      }),
    );
  }
  return {
    stop: async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
      sqs.destroy();
    },
  };
}
