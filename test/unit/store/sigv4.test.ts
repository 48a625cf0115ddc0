import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { signRequest } from '../../../shared/store/aws/sigv4';

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** The SDK's signer wants a hash constructor; node:crypto stands in for @aws-crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

it('signs the AWS documentation example (IAM ListUsers) with its published signature', () => {
  const headers = signRequest(
    {
      method: 'GET',
      path: '/',
      query: { Action: 'ListUsers', Version: '2010-05-08' },
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', host: 'iam.amazonaws.com' },
      body: '',
    },
    {
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      region: 'us-east-1',
      service: 'iam',
      date: new Date('2015-08-30T12:36:00Z'),
    },
  );
  expect(headers['x-amz-date']).toBe('20150830T123600Z');
  expect(headers.authorization).toBe(
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
      'SignedHeaders=content-type;host;x-amz-date, ' +
      'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
  );
});

const token = fc.string({ minLength: 1, maxLength: 12 });
const headerName = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,15}$/);
const headerValue = fc.stringMatching(/^[ -~\t]{0,30}$/);
const pathSegment = fc.oneof(fc.constantFrom('.', '..', '', 'a b', '~x', 'é', '%2F'), token);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
  path: fc.array(pathSegment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
  // `__proto__` as a query name: the SDK's request clone drops it (an object-literal assignment), ours signs it;
  // no request of ours has one.
  query: fc.dictionary(
    token.filter((name) => name !== '__proto__'),
    fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 })),
  ),
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
  body: fc.option(fc.oneof(fc.string({ maxLength: 60 }), fc.uint8Array({ maxLength: 60 })), { nil: undefined }),
  sessionToken: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
  service: fc.constantFrom('dynamodb', 'sqs', 's3', 'execute-api'),
  region: fc.constantFrom('us-east-1', 'eu-west-3', 'ap-southeast-2'),
  date: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
  contentSha256: fc.boolean(),
  escapePath: fc.boolean(),
});

it('produces the same Authorization header and x-amz-date as the SDK signer for any request', async () => {
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const credentials = {
        accessKeyId: 'AKIAEXAMPLEKEY',
        secretAccessKey: 'secret/Example+Key',
        ...(r.sessionToken ? { sessionToken: r.sessionToken } : {}),
      };
      const headers = { ...r.headers, host: 'service.example.com:8443' };
      const sdk = new SignatureV4({
        credentials,
        region: r.region,
        service: r.service,
        sha256: Sha256,
        applyChecksum: r.contentSha256,
        uriEscapePath: r.escapePath,
      });
      const expected = await sdk.sign(
        {
          method: r.method,
          protocol: 'https:',
          hostname: 'service.example.com',
          port: 8443,
          path: r.path,
          query: r.query,
          headers,
          body: r.body,
        },
        { signingDate: r.date },
      );
      const ours = signRequest(
        { method: r.method, path: r.path, query: r.query, headers, body: r.body },
        {
          credentials,
          region: r.region,
          service: r.service,
          date: r.date,
          contentSha256: r.contentSha256,
          escapePath: r.escapePath,
        },
      );
      expect(ours.authorization).toBe(expected.headers.authorization);
      expect(ours['x-amz-date']).toBe(expected.headers['x-amz-date']);
      expect(ours['x-amz-security-token']).toBe(expected.headers['x-amz-security-token']);
    }),
    { numRuns: 400 },
  );
});

it('changes the signature when the secret changes under the same access key (no stale cached signing key)', () => {
  const sign = (secretAccessKey: string) =>
    signRequest(
      { method: 'POST', path: '/', headers: { host: 'dynamodb.us-east-1.amazonaws.com' }, body: '{}' },
      {
        credentials: { accessKeyId: 'AKIAROTATED', secretAccessKey },
        region: 'us-east-1',
        service: 'dynamodb',
        date: new Date('2026-11-30T10:00:00Z'),
      },
    ).authorization;
  expect(sign('first-secret')).not.toBe(sign('second-secret'));
  expect(sign('first-secret')).toBe(sign('first-secret'));
});
