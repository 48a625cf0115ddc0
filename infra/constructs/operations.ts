import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { QueueName } from '../../shared/routes';
import type { ClicksieveFunction } from './clicksieve-function';

interface OperationsProps {
  readonly api: RestApi;
  readonly functions: Readonly<Record<string, ClicksieveFunction>>;
  readonly deadLetterQueues: Readonly<Record<QueueName, IQueue>>;
  /** Context `alarmEmail`: alarms are also mailed there (SNS e-mail subscription, confirmed by the recipient). */
  readonly alarmEmail?: string | undefined;
  /** Context `wafRateLimit`: requests per source address per 5 minutes before a WAF rule blocks it. */
  readonly wafRateLimit?: number | undefined;
}

/** 5xx answers above this share of requests over 5 minutes raise the alarm. */
const FIVE_XX_RATE = 0.01;

/**
 * What an operator must hear about, as CloudWatch alarms on one SNS topic: a message in any DLQ, the
 * API's 5xx rate, throttled functions, function errors, and the IP-intelligence refresh failing.
 * With `-c alarmEmail=ops@example.com` the topic mails them. With `-c wafRateLimit=N` a WAF web ACL
 * blocks any address sending more than N requests in 5 minutes before it reaches API Gateway or Lambda.
 */
export class Operations extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly webAcl?: CfnWebACL;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', {
      displayName: 'clicksieve alarms',
      masterKey: new Key(this, 'AlarmsKey', { enableKeyRotation: true, description: 'clicksieve alarm topic' }),
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    for (const [name, dlq] of Object.entries(props.deadLetterQueues)) {
      this.alarm(`Dlq${name}`, {
        description: `A ${name} message failed every delivery and sits in its DLQ`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 0,
      });
    }

    const requests = props.api.metricCount({ period: Duration.minutes(5) });
    const serverErrors = props.api.metricServerError({ period: Duration.minutes(5) });
    this.alarm('Api5xxRate', {
      description: `More than ${FIVE_XX_RATE * 100}% of API answers were 5xx over 5 minutes`,
      metric: new MathExpression({
        expression: 'IF(requests > 0, errors / requests, 0)',
        usingMetrics: { requests, errors: serverErrors },
        period: Duration.minutes(5),
      }),
      threshold: FIVE_XX_RATE,
    });

    for (const [fnId, fn] of Object.entries(props.functions)) {
      this.alarm(`${fnId}Errors`, {
        description:
          fnId === 'intelRefresh'
            ? 'The IP-intelligence refresh failed (scoring keeps the previous snapshot)'
            : `${fnId} threw errors`,
        metric: fn.fn.metricErrors({ period: Duration.minutes(5) }),
        threshold: 0,
      });
      this.alarm(`${fnId}Throttles`, {
        description: `${fnId} was throttled (concurrency limit)`,
        metric: fn.fn.metricThrottles({ period: Duration.minutes(5) }),
        threshold: 0,
      });
    }

    if (props.wafRateLimit !== undefined) this.webAcl = this.addWaf(props.api, props.wafRateLimit);
  }

  private alarm(id: string, props: { description: string; metric: Alarm['metric']; threshold: number }): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: props.description,
      metric: props.metric,
      threshold: props.threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  private addWaf(api: RestApi, limit: number): CfnWebACL {
    const acl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'clicksieve', sampledRequestsEnabled: true },
      rules: [
        {
          name: 'rate-per-address',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit, aggregateKeyType: 'IP' } },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: 'clicksieve-rate-per-address',
            sampledRequestsEnabled: true,
          },
        },
      ],
    });
    new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: api.deploymentStage.stageArn,
      webAclArn: acl.attrArn,
    });
    Validations.of(Stack.of(this)).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'A WAF web ACL with a per-address rate rule is associated with the stage (context wafRateLimit).',
    });
    return acl;
  }
}
