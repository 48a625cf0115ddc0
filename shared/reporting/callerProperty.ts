import { forbidden, notFound } from '../http/errors';
import { type EffectiveConfig, effectiveConfig, getProperty } from '../properties';

/**
 * The calling property's effective configuration. With `pathId`, a property id in the path that is not the
 * caller's answers 403 (the contract's FORBIDDEN: valid credential, other property's resource).
 */
export async function callerConfig(
  principal: { readonly propertyId?: string },
  pathId?: string,
): Promise<{ propertyId: string; config: EffectiveConfig }> {
  const propertyId = principal.propertyId;
  if (!propertyId) throw forbidden();
  if (pathId !== undefined && pathId !== propertyId) throw forbidden();
  const property = await getProperty(propertyId);
  if (!property) throw notFound('property not found');
  return { propertyId, config: effectiveConfig(property) };
}
