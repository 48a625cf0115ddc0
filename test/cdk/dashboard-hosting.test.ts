import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DASHBOARD_CSP } from '../../dashboard/build';
import { DashboardHosting } from '../../infra/constructs/dashboard-hosting';

/**
 * The dashboard's hosting on its own (the full stack, with it, is synthesised by stack.test.ts): a private
 * bucket read only through CloudFront's origin access control, HTTPS, security headers, /v1/* to the API,
 * the built files uploaded — and no cdk-nag finding left unacknowledged.
 */
let outdir: string;
let template: Template;
let hosting: DashboardHosting;
let stack: Stack;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'clicksieve-dashboard-cdk-'));
  const app = new App({ outdir });
  stack = new Stack(app, 'DashboardOnly', { env: { account: '123456789012', region: 'eu-west-1' } });
  const api = new RestApi(stack, 'Api', { deployOptions: { stageName: 'prod' }, cloudWatchRole: false });
  api.root.addResource('v1').addMethod('GET', new MockIntegration());
  // The stand-in API is not under test: its own findings are the full stack's business (stack.test.ts).
  Validations.of(api).acknowledge(
    ...['APIG1', 'APIG2', 'APIG3', 'APIG4', 'APIG6', 'COG4'].map((rule) => ({
      id: `AwsSolutions-${rule}`,
      reason: 'Stand-in API for this test.',
    })),
  );
  const logs = new Bucket(stack, 'Logs', { enforceSSL: true });
  Validations.of(logs).acknowledge({ id: 'AwsSolutions-S1', reason: 'Stand-in log bucket for this test.' });
  hosting = new DashboardHosting(stack, 'Dashboard', { api, accessLogs: logs });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
  template = Template.fromStack(stack);
}, 300_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as import('aws-cdk-lib').CfnElement);

describe('dashboard hosting', () => {
  it('keeps the file bucket private, encrypted, TLS-only and logged', () => {
    const bucket = template.toJSON().Resources[logicalId(hosting.bucket)];
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { LogFilePrefix: 'dashboard/' },
    });
    expect(bucket.Properties.WebsiteConfiguration).toBeUndefined();
  });

  it('lets only this distribution read the bucket, through origin access control', () => {
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((resource) =>
      JSON.stringify(resource.Properties.Bucket).includes(logicalId(hosting.bucket)),
    );
    const statements = policy?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    const reads = statements.filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Action).includes('s3:GetObject'));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
    });
    expect(JSON.stringify(reads[0]!.Condition)).toContain(logicalId(hosting.distribution));
    const tlsOnly = statements.find(
      (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport'),
    );
    expect(tlsOnly).toBeDefined();
  });

  it('serves HTTPS only, with the API uncached under /v1/*', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        CacheBehaviors: [
          Match.objectLike({
            PathPattern: '/v1/*',
            ViewerProtocolPolicy: 'https-only',
            CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
            AllowedMethods: Match.arrayWith(['PUT', 'POST']),
          }),
        ],
        Origins: Match.arrayWith([
          Match.objectLike({
            CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only' }),
          }),
        ]),
      }),
    });
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!;
    const apiOrigin = (distribution.Properties.DistributionConfig.Origins as Record<string, unknown>[]).find(
      (origin) => origin.CustomOriginConfig,
    );
    expect(JSON.stringify(apiOrigin?.OriginPath)).toContain('prod');
  });

  it('sends the security headers on every answer', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: {
          ContentSecurityPolicy: { ContentSecurityPolicy: DASHBOARD_CSP, Override: true },
          StrictTransportSecurity: { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Override: true },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
        },
      }),
    });
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!;
    const config = distribution.Properties.DistributionConfig;
    const policyRef = { Ref: logicalId(hosting.headers) };
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual(policyRef);
    expect(config.CacheBehaviors[0].ResponseHeadersPolicyId).toEqual(policyRef);
  });

  it('uploads the built dashboard under dashboard/ and invalidates it', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketKeyPrefix: 'dashboard/',
      DistributionPaths: ['/dashboard/*'],
    });
    const assetDirs = readdirSync(outdir).filter(
      (name) => name.startsWith('asset.') && statSync(path.join(outdir, name)).isDirectory(),
    );
    const built = assetDirs.find((dir) => readdirSync(path.join(outdir, dir)).includes('app.js'));
    expect(built).toBeDefined();
    expect(readdirSync(path.join(outdir, built!)).sort()).toEqual(['app.css', 'app.js', 'index.html', 'uplot.css']);
    expect(readFileSync(path.join(outdir, built!, 'index.html'), 'utf8')).toContain('<script src="app.js" defer>');
  });
});
