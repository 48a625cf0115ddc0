import type { CredentialKind, RouteDef } from '../routes';

/** STUB — to be implemented (issue 2): who is calling, resolved from the authorizer context or the credentials. */
export interface Principal {
  readonly kind: CredentialKind;
  /** Set for every kind but `admin`. */
  readonly propertyId?: string;
  readonly planId?: string;
}

export interface AuthenticateInput {
  readonly route: RouteDef;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly bodyTrackingKey: string | undefined;
  /** `event.requestContext.authorizer` as API Gateway (or the local gateway) passed it. */
  readonly authorizer: Record<string, unknown> | undefined | null;
  readonly sourceIp: string;
}

export async function authenticate(_input: AuthenticateInput): Promise<Principal> {
  throw new Error('authenticate is not implemented yet');
}
