import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { type CfnElement, type Duration, type IResource, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GOOGLE_ADS_API_MODULE, LAMBDA_BUNDLE, LAMBDA_BUNDLE_ALIAS } from './bundling';

/** Repository root: entries in the route table are relative to it. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The IP-intelligence snapshot built by `npm run intel:build`; intel functions load it from next to index.js. */
const INTEL_SNAPSHOT = path.join(REPO_ROOT, 'shared', 'intel', 'snapshot', 'ipintel.bin');

type TableAccess = 'read' | 'readWrite';
type BucketAccess = 'read' | 'readWrite';

export interface ClicksieveFunctionProps {
  /** Handler file relative to the repository root (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  /** Variables every function gets; merged with, never replaced by, what the bind* helpers add. */
  readonly environment: Readonly<Record<string, string>>;
  /** Copy the IP-intelligence snapshot next to the bundle. */
  readonly intelSnapshot?: boolean;
  /** Where the snapshot is read from at synth. */
  readonly intelSnapshotFile?: string;
  /** Reaches Google Ads: google-ads-api is bundled beside the function, loaded only when an account is reached. */
  readonly googleAdsApi?: boolean;
  readonly logRetention?: RetentionDays;
  /** Only where something must reach the function without a reference to it; CloudFormation names it otherwise. */
  readonly functionName?: string;
}

/**
 * Every Lambda of clicksieve is built here, so runtime, architecture, bundling, tracing, logs and
 * permissions are decided in one place. The function gets its own role whose only standing rights are
 * writing to its own log group and X-Ray; everything else is added through the bind* helpers.
 */
export class ClicksieveFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** The fixed name, when one was given. */
  readonly functionName: string | undefined;

  constructor(scope: Construct, id: string, props: ClicksieveFunctionProps) {
    super(scope, id);
    this.functionName = props.functionName;
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `clicksieve ${id}`,
    });
    this.logGroup.grantWrite(this.role);

    // Checked at synth so a fresh clone without a built snapshot still synthesises (the function then
    // falls back to the newest snapshot in the bucket).
    const snapshotFile = props.intelSnapshotFile ?? INTEL_SNAPSHOT;
    const copySnapshot = props.intelSnapshot === true && existsSync(snapshotFile);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      functionName: props.functionName,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.CJS,
        target: LAMBDA_BUNDLE.target,
        externalModules: [],
        minify: LAMBDA_BUNDLE.minify,
        sourceMap: true,
        sourcesContent: false,
        logLevel: LogLevel.ERROR,
        forceDockerBundling: false,
        esbuildArgs: {
          ...Object.fromEntries(Object.entries(LAMBDA_BUNDLE_ALIAS).map(([from, to]) => [`--alias:${from}`, to])),
          ...(props.googleAdsApi ? { [`--external:${GOOGLE_ADS_API_MODULE.specifier}`]: true } : {}),
        },
        commandHooks:
          copySnapshot || props.googleAdsApi
            ? {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => [
                  ...(copySnapshot ? [`cp "${snapshotFile}" "${outputDir}/"`] : []),
                  ...(props.googleAdsApi ? [googleAdsApiBundleCommand(outputDir)] : []),
                ],
              }
            : undefined,
      },
    });

    this.acknowledgeWildcard('Resource::*', 'X-Ray trace segments have no resource-level permissions.');
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime this project is built and tested on (shared/STACK.md); moving is a deliberate step.',
    });
  }

  /** Read or read/write data access to the table (items and its indexes); never table management. */
  bindTable(table: ITable, access: TableAccess, envName = 'TABLE_NAME'): this {
    if (access === 'read') table.grantReadData(this.fn);
    else table.grantReadWriteData(this.fn);
    this.fn.addEnvironment(envName, table.tableName);
    this.acknowledgeWildcard(
      `Resource::${arnOf(table)}/index/*`,
      'The table’s own global secondary indexes (gsi1, gsi2); data actions only, never table management.',
    );
    return this;
  }

  /** Send-only access to one queue. */
  bindQueue(queue: IQueue, envName: string): this {
    queue.grant(this.fn, 'sqs:SendMessage');
    this.fn.addEnvironment(envName, queue.queueUrl);
    return this;
  }

  /**
   * Object access limited to `prefix` (e.g. `exports/`), or the whole bucket when no prefix is given,
   * with listing limited to the same prefix. Named actions only: no s3:*, no bucket configuration.
   */
  bindBucket(bucket: IBucket, access: BucketAccess, prefix?: string, envName = 'BUCKET_NAME'): this {
    const pattern = prefix === undefined ? '*' : `${prefix}*`;
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: access === 'read' ? BUCKET_READ : [...BUCKET_READ, ...BUCKET_WRITE],
        resources: [bucket.arnForObjects(pattern)],
      }),
    );
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: prefix === undefined ? undefined : { StringLike: { 's3:prefix': [pattern] } },
      }),
    );
    this.fn.addEnvironment(envName, bucket.bucketName);
    this.acknowledgeWildcard(
      `Resource::${arnOf(bucket)}/${pattern}`,
      `Objects are written and read under ${prefix ?? 'the bucket'} with generated keys; the prefix is the boundary.`,
    );
    return this;
  }

  /** Read access to one secret, passed by ARN (the value never enters the template or the environment). */
  bindSecret(secret: ISecret, envName: string): this {
    secret.grantRead(this.fn);
    this.fn.addEnvironment(envName, secret.secretArn);
    return this;
  }

  addToRolePolicy(statement: PolicyStatement): this {
    this.fn.addToRolePolicy(statement);
    return this;
  }

  /** Acknowledges one cdk-nag IAM5 finding (`Action::…` or `Resource::…`) on this function's role only. */
  acknowledgeWildcard(finding: string, reason: string): this {
    Validations.of(this.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    return this;
  }
}

const BUCKET_READ = ['s3:GetObject'];
const BUCKET_WRITE = ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];

/** How cdk-nag renders `Fn::GetAtt [<resource>, Arn]` in its findings. */
function arnOf(resource: IResource): string {
  return `<${Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnElement)}.Arn>`;
}

/** The afterBundling command that bundles google-ads-api's module beside index.js, with the function's own settings. */
function googleAdsApiBundleCommand(outputDir: string): string {
  const esbuild = path.join(REPO_ROOT, 'node_modules', '.bin', 'esbuild');
  const aliases = Object.entries(LAMBDA_BUNDLE_ALIAS).map(([from, to]) => `"--alias:${from}=${to}"`);
  return [
    `"${esbuild}"`,
    `"${GOOGLE_ADS_API_MODULE.entry}"`,
    '--bundle',
    `--platform=${LAMBDA_BUNDLE.platform}`,
    `--target=${LAMBDA_BUNDLE.target}`,
    `--format=${LAMBDA_BUNDLE.format}`,
    ...(LAMBDA_BUNDLE.minify ? ['--minify'] : []),
    '--log-level=error',
    ...aliases,
    `"--outfile=${path.join(outputDir, GOOGLE_ADS_API_MODULE.file)}"`,
  ].join(' ');
}
