import path from 'node:path';
import { type CfnElement, DockerImage, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { RestApiOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { buildDashboard, DASHBOARD_CSP } from '../../dashboard/build';

interface DashboardHostingProps {
  readonly api: RestApi;
  /** Where the dashboard bucket's server access logs go. */
  readonly accessLogs: IBucket;
}

/** Index documents for the dashboard's folder, and / sends people to it. */
const INDEX_REWRITE = `function handler(event) {
  var request = event.request;
  if (request.uri === '/' || request.uri === '/dashboard') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: '/dashboard/' } } };
  }
  if (request.uri === '/dashboard/') request.uri = '/dashboard/index.html';
  return request;
}`;

/**
 * The dashboard on AWS: its static files in a private bucket that only this CloudFront distribution may
 * read (origin access control), served over HTTPS with security headers, and `/v1/*` passed through to
 * the API uncached — so the dashboard calls its API on its own origin (no CORS) and the key travels in
 * a header to API Gateway exactly as with curl. The files are built at synth with the function
 * `npm start` serves them with.
 */
export class DashboardHosting extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly headers: ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: DashboardHostingProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'dashboard/',
      // Only build output lives here: it is uploaded again on every deploy.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'clicksieve dashboard: CSP, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: DASHBOARD_CSP, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const files = S3BucketOrigin.withOriginAccessControl(this.bucket);
    const rewrite = new EdgeFunction(this, 'IndexRewrite', {
      code: FunctionCode.fromInline(INDEX_REWRITE),
      runtime: FunctionRuntime.JS_2_0,
      comment: 'clicksieve dashboard: /dashboard/ → index.html',
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'clicksieve dashboard and API',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: files,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: this.headers,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        functionAssociations: [{ function: rewrite, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: new RestApiOrigin(props.api),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.headers,
        },
      },
    });

    new BucketDeployment(this, 'Upload', {
      sources: [
        Source.asset(path.join(__dirname, '..', '..', 'dashboard'), {
          bundling: {
            // Never used: the local build below always succeeds or throws.
            image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
            local: {
              tryBundle(outputDir: string) {
                buildDashboard(outputDir);
                return true;
              },
            },
          },
        }),
      ],
      destinationBucket: this.bucket,
      destinationKeyPrefix: 'dashboard/',
      distribution: this.distribution,
      distributionPaths: ['/dashboard/*'],
      memoryLimit: 256,
    });
    this.acknowledgeFindings();
  }

  private acknowledgeFindings(): void {
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Advertisers and their agencies sign in from anywhere; the API behind it is keyed per property.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Static files and an API that has its own authorizer, usage plans and per-address limits; add a WAF web ACL per deployment if wanted.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'CloudFront standard logs need an ACL-enabled bucket; the API keeps access logs and the file bucket S3 access logs.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate cannot pin TLS 1.2; viewers are redirected to HTTPS, and a custom domain with an ACM certificate enforces TLSv1.2_2021.',
      },
    );
    // BucketDeployment's provider function is CDK's own (a stack-level singleton), with CDK's own role.
    const stack = Stack.of(this);
    const files = stack.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    // How cdk-nag renders the CDK asset bucket: pseudo parameters for an environment-agnostic stack.
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const copies =
      'CDK’s own deployment provider copies the built files from the asset bucket into the dashboard bucket.';
    for (const construct of stack.node.children) {
      if (!construct.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      Validations.of(construct).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'CDK’s own deployment provider logs with the AWS-managed basic execution role.',
        },
        ...[
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          'Action::s3:Abort*',
          'Action::s3:DeleteObject*',
          `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${account}-${region}/*`,
          `Resource::<${files}.Arn>/*`,
          'Resource::*',
        ].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason: copies })),
        { id: 'AwsSolutions-L1', reason: 'The runtime of CDK’s own deployment provider is chosen by aws-cdk-lib.' },
      );
    }
  }
}
