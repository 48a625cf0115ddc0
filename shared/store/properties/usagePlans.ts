import { randomBytes } from 'node:crypto';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
} from '@aws-sdk/client-api-gateway';
import * as z from 'zod';
import { ENV, optionalEnv } from '../../config/env';

interface UsageKey {
  /** API Gateway's id of the API key (`local` on the local stack). */
  readonly keyId: string;
  /** The key's value: what the authorizer returns as `usageIdentifierKey`. */
  readonly value: string;
}

/**
 * Where a property's usage-plan membership lives. On AWS: one API Gateway API key per property in
 * the usage plan of its plan. Locally the gateway reads plans.json itself, so nothing is registered.
 */
export interface UsagePlanRegistry {
  register(propertyId: string, planId: string): Promise<UsageKey>;
  changePlan(key: UsageKey, fromPlanId: string, toPlanId: string): Promise<void>;
  /** Undoes `register` when the property could not be stored. */
  remove(key: UsageKey): Promise<void>;
}

/** A random API key value (API Gateway wants at least 20 characters). */
const newUsageKeyValue = () => `usage_${randomBytes(24).toString('base64url')}`;

export class LocalUsagePlanRegistry implements UsagePlanRegistry {
  async register(): Promise<UsageKey> {
    return { keyId: 'local', value: newUsageKeyValue() };
  }
  async changePlan(): Promise<void> {}
  async remove(): Promise<void> {}
}

class ApiGatewayUsagePlanRegistry implements UsagePlanRegistry {
  constructor(
    private readonly client: APIGatewayClient,
    /** Plan id -> API Gateway usage plan id. */
    private readonly usagePlanIds: Readonly<Record<string, string>>,
  ) {}

  async register(propertyId: string, planId: string): Promise<UsageKey> {
    const usagePlanId = this.usagePlanOf(planId);
    const value = newUsageKeyValue();
    const created = await this.client.send(
      new CreateApiKeyCommand({ name: propertyId, value, enabled: true, description: 'clicksieve property usage key' }),
    );
    if (!created.id) throw new Error('API Gateway returned no API key id');
    const key = { keyId: created.id, value };
    try {
      await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: created.id, keyType: 'API_KEY' }));
    } catch (error) {
      await this.remove(key);
      throw error;
    }
    return key;
  }

  async changePlan(key: UsageKey, fromPlanId: string, toPlanId: string): Promise<void> {
    if (fromPlanId === toPlanId) return;
    // A key can sit in one usage plan per stage: leave the old plan before joining the new one.
    await this.client.send(
      new DeleteUsagePlanKeyCommand({ usagePlanId: this.usagePlanOf(fromPlanId), keyId: key.keyId }),
    );
    await this.client.send(
      new CreateUsagePlanKeyCommand({ usagePlanId: this.usagePlanOf(toPlanId), keyId: key.keyId, keyType: 'API_KEY' }),
    );
  }

  async remove(key: UsageKey): Promise<void> {
    await this.client.send(new DeleteApiKeyCommand({ apiKey: key.keyId }));
  }

  private usagePlanOf(planId: string): string {
    const id = this.usagePlanIds[planId];
    if (!id) throw new Error(`no usage plan configured for plan ${planId}`);
    return id;
  }
}

/** API Gateway when USAGE_PLAN_IDS is set (the stack sets it), otherwise the local no-op. */
export function usagePlanRegistryFromEnv(): UsagePlanRegistry {
  const raw = optionalEnv(ENV.usagePlanIds);
  if (!raw) return new LocalUsagePlanRegistry();
  const ids = z.record(z.string(), z.string().min(1)).parse(JSON.parse(raw));
  return new ApiGatewayUsagePlanRegistry(new APIGatewayClient({}), ids);
}
