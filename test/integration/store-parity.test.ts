import { ENV } from '../../shared/config/env';
import { clickFacts, velocityCountersFor } from '../../shared/scoring';
import { documentClient } from '../../shared/store/clients';
import { DynamoIngestionStore } from '../../shared/store/ingestion/dynamo';
import { MemoryIngestionStore } from '../../shared/store/ingestion/memory';
import type { ClickRound, IngestionStore } from '../../shared/store/ingestion/store';

const tableName = process.env[ENV.tableName] as string;
const noIntel = { version: 'none', lookup: () => undefined };
const T0 = Date.UTC(2026, 4, 10, 12, 0, 0);
const RETAIN = Math.floor(T0 / 1000) + 30 * 86_400;

/**
 * The click round (velocity windows + the visitor's state + the gclid's and token's first click, one write per
 * counted key) run against the in-memory store and its DynamoDB twin: same counters, same visitor, same indexes.
 */
describe('IngestionStore.countClick: in-memory and DynamoDB Local agree', () => {
  it('counts, touches the visitor and indexes first clicks identically over a random click sequence', async () => {
    let now = T0;
    const propertyId = `prop_parity${Date.now().toString(36)}`;
    const stores: IngestionStore[] = [
      new MemoryIngestionStore(() => now),
      new DynamoIngestionStore(documentClient, tableName, () => now),
    ];
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let i = 0; i < 40; i++) {
      now += rand(4) * 40_000 + rand(2) * 1_800_000;
      const ip = `198.51.100.${rand(3)}`;
      const gclid = rand(3) === 0 ? undefined : `g-${rand(6)}`;
      // Every fourth click has a server-assigned visitor (no visitor windows): its state is written all the same.
      const clientVisitor = rand(4) !== 0;
      const visitorId = clientVisitor ? `vis_${rand(4)}` : `vis_server${i}`;
      const token = rand(5) === 0 ? { tokenId: `tok_${rand(2)}`, expiresAt: now + 3_600_000 } : undefined;
      const facts = clickFacts(
        {
          propertyId,
          ip,
          pageUrl: `/?campaignid=${rand(2)}`,
          ...(gclid !== undefined ? { gclid } : {}),
          ...(clientVisitor ? { visitorId } : {}),
        },
        noIntel,
      );
      const round: ClickRound = {
        propertyId,
        clickId: `clk_${i}`,
        visitorId,
        at: now,
        ip,
        retainUntil: RETAIN,
        counters: velocityCountersFor(facts, now),
        countVisit: rand(6) !== 0,
        ...(gclid !== undefined ? { gclid } : {}),
        ...(token !== undefined ? { token } : {}),
      };
      const [memory, dynamo] = await Promise.all(stores.map((store) => store.countClick(round)));
      expect(dynamo?.counters).toEqual(memory?.counters);
      if (round.countVisit) expect(dynamo?.worstScore).toEqual(memory?.worstScore);
      const score = rand(100);
      await Promise.all(
        stores.map((store) => store.raiseWorst(visitorId, propertyId, { clickId: round.clickId, score })),
      );

      const [visitorM, visitorD] = await Promise.all(
        stores.map((store) => store.getVisitor(propertyId, visitorId, now)),
      );
      expect(visitorD).toEqual(visitorM);
      if (gclid !== undefined) {
        const [m, d] = await Promise.all(stores.map((store) => store.findClickByGclid(propertyId, gclid, now)));
        expect(d).toBe(m);
      }
      if (token !== undefined) {
        const [m, d] = await Promise.all(stores.map((store) => store.findClickByToken(token.tokenId, now)));
        expect(d).toEqual(m);
      }
    }
  });
});
