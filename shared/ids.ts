import { randomBytes } from 'node:crypto';

/** Opaque ids with the contract's prefixes; 128 random bits, base64url. */
type IdPrefix = 'prop_' | 'vis_' | 'evt_' | 'clk_' | 'ct_' | 'exp_' | 'conv_';

export const newId = (prefix: IdPrefix): string => prefix + randomBytes(16).toString('base64url');
