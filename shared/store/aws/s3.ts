import { AwsServiceError, type ResponseMetadata } from './errors';
import { uriEscape } from './sigv4';
import { AwsWire, type WireOptions, type WireResponse } from './wire';

/**
 * A signed S3 GET on our own wire, for the one object the click path reads (the intel snapshot). Exports,
 * uploads and presigned links keep the AWS SDK (they run off the click path).
 */

export interface GetObjectCommandInput {
  Bucket: string;
  Key: string;
}

export interface GetObjectCommandOutput {
  Body: { transformToByteArray(): Promise<Uint8Array> };
  ContentType?: string;
  ETag?: string;
}

export class GetObjectCommand {
  constructor(readonly input: GetObjectCommandInput) {}
}

/** Any S3 error; `name` is S3's code (`NoSuchKey`, `AccessDenied`, …), `$metadata.httpStatusCode` its status. */
export class S3ServiceException extends AwsServiceError {}

export interface S3ReaderOptions extends WireOptions {
  /** Bucket in the path (emulators) instead of the host name. */
  readonly forcePathStyle?: boolean;
}

export class S3Reader {
  private readonly wire: AwsWire;

  constructor(private readonly options: S3ReaderOptions = {}) {
    this.wire = new AwsWire('s3', options);
  }

  async send(command: GetObjectCommand, options: { abortSignal?: AbortSignal } = {}): Promise<GetObjectCommandOutput> {
    const { Bucket, Key } = command.input;
    const key = Key.split('/').map(uriEscape).join('/');
    const pathStyle = this.options.forcePathStyle || Bucket.includes('.');
    const response = await this.wire.call(
      {
        method: 'GET',
        path: pathStyle ? `/${uriEscape(Bucket)}/${key}` : `/${key}`,
        headers: {},
        signal: options.abortSignal,
        ...(pathStyle ? {} : { hostPrefix: Bucket }),
      },
      readS3Error,
    );
    const bytes = new Uint8Array(response.body);
    return {
      Body: { transformToByteArray: async () => bytes },
      ContentType: header(response, 'content-type'),
      ETag: header(response, 'etag'),
    };
  }
}

function header(response: WireResponse, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** S3 errors are XML: `<Error><Code>NoSuchKey</Code><Message>…</Message></Error>` (none for a HEAD). */
function readS3Error(response: WireResponse, metadata: ResponseMetadata): S3ServiceException {
  const xml = response.body.toString('utf8');
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? (response.status === 404 ? 'NotFound' : 'UnknownError');
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? `S3 answered ${response.status}`;
  return new S3ServiceException(code, message, metadata);
}
