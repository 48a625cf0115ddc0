import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Code, Function as LambdaFn, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { ClicksieveFunction } from '../../infra/constructs/clicksieve-function';
import { Operations } from '../../infra/constructs/operations';

/** The operations construct alone, on stand-in resources (no bundling), with and without its context options. */
function synth(options: { alarmEmail?: string; wafRateLimit?: number }) {
  const stack = new Stack(new App(), 'Ops');
  const api = new RestApi(stack, 'Api');
  api.root.addMethod('GET');
  const fn = (id: string) =>
    ({
      fn: new LambdaFn(stack, id, {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromInline('exports.handler = async () => undefined;'),
      }),
    }) as unknown as ClicksieveFunction;
  const dlq = (id: string) => new Queue(stack, id);
  new Operations(stack, 'Operations', {
    api,
    functions: { click: fn('Click'), intelRefresh: fn('IntelRefresh') },
    deadLetterQueues: { beacons: dlq('B'), conversions: dlq('C'), exports: dlq('E'), counts: dlq('N') },
    ...options,
  });
  return Template.fromStack(stack);
}

describe('operations', () => {
  it('alarms on every DLQ, the 5xx rate, function errors and throttles, and the intel refresh failing', () => {
    const template = synth({});
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { AlarmDescription: string; AlarmActions: unknown[]; Threshold: number };
    }[];
    const descriptions = alarms.map((alarm) => alarm.Properties.AlarmDescription);
    for (const queue of ['beacons', 'conversions', 'exports', 'counts']) {
      expect(descriptions).toContain(`A ${queue} message failed every delivery and sits in its DLQ`);
    }
    expect(descriptions).toContain('The IP-intelligence refresh failed (scoring keeps the previous snapshot)');
    expect(descriptions).toContain('click threw errors');
    expect(descriptions).toContain('click was throttled (concurrency limit)');
    expect(descriptions.some((d) => d.includes('5xx'))).toBe(true);
    // Every alarm notifies the topic.
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('mails the alarms when context alarmEmail is given', () => {
    synth({ alarmEmail: 'ops@example.com' }).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('puts a per-address WAF rate rule in front of the stage when context wafRateLimit is given', () => {
    const template = synth({ wafRateLimit: 2000 });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: [
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP' } },
        }),
      ],
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });
});
