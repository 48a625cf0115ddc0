import type { Principal } from '../auth/principal';
import { unauthorized } from '../http/errors';

export { type ClickAddress, canonicalIp, clickAddress } from './address';
export { type ApplyResult, acceptBeacon, applyBeacon } from './beacons';
export { type ClickAnswer, type ClickRequest, recordClick } from './clicks';
export { acceptConversion, applyConversion } from './conversions';
export { countClicks } from './counting';
export { EVENT_DEDUP_WINDOW_MS, eventIdFor, recordEvent } from './events';
export { BeaconMessage, ConversionMessage, CountMessage } from './messages';
export type { IngestionDeps } from './ports';
export { botVerdict, checkIp, decideVisitor, issueToken } from './verdicts';
export { ingestionDeps } from './wiring';

/** The property a principal acts for (every credential but the admin key has one). */
export function propertyOf(principal: Principal): string {
  if (!principal.propertyId) throw unauthorized();
  return principal.propertyId;
}
