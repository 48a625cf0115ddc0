import { App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ClicksieveStack } from './stack';

/**
 * Environment-agnostic unless `-c account=… -c region=…` is given, so `cdk synth` needs no credentials
 * and gives the same template on every machine. cdk-nag's AWS Solutions checks run during synth:
 * an unacknowledged finding fails it.
 */
export function buildApp(app = new App()): { app: App; stack: ClicksieveStack } {
  const account: unknown = app.node.tryGetContext('account');
  const region: unknown = app.node.tryGetContext('region');
  const env: Environment | undefined =
    typeof account === 'string' && typeof region === 'string' ? { account, region } : undefined;
  const stack = new ClicksieveStack(app, 'Clicksieve', {
    env,
    description: 'clicksieve: click-fraud detection (API, functions, table, queues, bucket)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

if (require.main === module) buildApp().app.synth();
