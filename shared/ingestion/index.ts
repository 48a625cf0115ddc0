import type { Principal } from '../auth/principal';
import { unauthorized } from '../http/errors';

export { canonicalIp, clickAddress } from './address';
export { type ApplyResult, acceptBeacon, applyBeacon } from './beacons';
export { recordClick } from './clicks';
export { acceptConversion, applyConversion } from './conversions';
export { countClicks } from './counting';
export { recordEvent } from './events';
export { BeaconMessage, ConversionMessage, CountMessage } from './messages';
export type { IngestionDeps } from './ports';
export { botVerdict, checkIp, decideVisitor, issueToken } from './verdicts';
export { ingestionDeps } from './wiring';

/** The property a principal acts for (every credential but the admin key has one). */
export function propertyOf(principal: Principal): string {
  if (!principal.propertyId) throw unauthorized();
  return principal.propertyId;
}
