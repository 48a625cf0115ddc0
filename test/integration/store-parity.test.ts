import { ENV } from '../../shared/config/env';
import { newId } from '../../shared/ids';
import { ACTOR_TTL_SECONDS, actorCountersFor, clickFacts, velocityCountersFor } from '../../shared/scoring';
import { PutCommand } from '../../shared/store/aws/dynamodb';
import { type ClickStore, DynamoClickStore, MemoryClickStore } from '../../shared/store/clicks';
import { documentClient } from '../../shared/store/clients';
import { DynamoIngestionStore } from '../../shared/store/ingestion/dynamo';
import { MemoryIngestionStore } from '../../shared/store/ingestion/memory';
import type { ClickRound, IngestionStore } from '../../shared/store/ingestion/store';
import { countKey, gclidClickId } from '../../shared/store/keys';
import { clickFixture } from '../unit/reporting/fixtures';

const tableName = process.env[ENV.tableName] as string;
const noIntel = { version: 'none', lookup: () => undefined };
const T0 = Date.UTC(2026, 4, 10, 12, 0, 0);
const RETAIN = Math.floor(T0 / 1000) + 30 * 86_400;

/**
 * The click round (velocity windows + the visitor's state + the token's first click, one write per
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
    let conversionsSeen = 0;
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
        // The click path leaves the gclid to the click's own item (the click store's gclid slot, below).
        counters: velocityCountersFor(facts, now).filter((spec) => spec.counter !== 'gclid'),
        countVisit: rand(6) !== 0,
        ...(token !== undefined ? { token } : {}),
      };
      const [memory, dynamo] = await Promise.all(stores.map((store) => store.countClick(round)));
      expect(dynamo?.counters).toEqual(memory?.counters);
      conversionsSeen = Math.max(conversionsSeen, memory?.counters.ip_conversions ?? 0);
      // Some clicks convert (trusted): their address, /24 and client visitor count it, read back by later clicks.
      if (rand(3) === 0) {
        const actors = actorCountersFor(propertyId, ip, clientVisitor ? visitorId : undefined, now);
        await Promise.all(stores.map((store) => store.countActorConversion(actors)));
      }
      if (round.countVisit) expect(dynamo?.worstScore).toEqual(memory?.worstScore);
      const score = rand(100);
      await Promise.all(
        stores.map((store) => store.raiseWorst(visitorId, propertyId, { clickId: round.clickId, score })),
      );

      const [visitorM, visitorD] = await Promise.all(
        stores.map((store) => store.getVisitor(propertyId, visitorId, now)),
      );
      expect(visitorD).toEqual(visitorM);
      if (token !== undefined) {
        const [m, d] = await Promise.all(stores.map((store) => store.findClickByToken(token.tokenId, now)));
        expect(d).toEqual(m);
      }
    }
    expect(conversionsSeen).toBeGreaterThan(0);
  });

  it("keeps an actor's lifetime clicks and conversions alike, and never revives an expired actor", async () => {
    let now = T0;
    const propertyId = `prop_actor${Date.now().toString(36)}`;
    const stores: IngestionStore[] = [
      new MemoryIngestionStore(() => now),
      new DynamoIngestionStore(documentClient, tableName, () => now),
    ];
    const ip = '203.0.113.7';
    const click = async (i: number) => {
      const facts = clickFacts({ propertyId, ip, visitorId: 'vis_actor' }, noIntel);
      const round: ClickRound = {
        propertyId,
        clickId: `clk_a${i}`,
        visitorId: 'vis_actor',
        at: now,
        ip,
        retainUntil: Math.floor(now / 1000) + 90 * 86_400,
        counters: velocityCountersFor(facts, now),
        countVisit: true,
      };
      const [memory, dynamo] = await Promise.all(stores.map((store) => store.countClick(round)));
      expect(dynamo?.counters).toEqual(memory?.counters);
      return memory?.counters ?? {};
    };
    const convert = () =>
      Promise.all(
        stores.map((store) => store.countActorConversion(actorCountersFor(propertyId, ip, 'vis_actor', now))),
      );
    for (let i = 0; i < 3; i++) {
      await click(i);
      now += 6 * 3_600_000;
    }
    await convert();
    const later = await click(3);
    expect(later).toMatchObject({
      ip_clicks: 4,
      ip_conversions: 1,
      subnet_clicks: 4,
      subnet_conversions: 1,
      visitor_clicks: 4,
      visitor_conversions: 1,
    });
    // Past the actor's TTL: a conversion does not re-create the address or /24, and counting restarts; the
    // visitor's statistics live in its item, kept for the property's retention (90 days here), in both stores.
    now += (ACTOR_TTL_SECONDS + 120) * 1000;
    await convert();
    const fresh = await click(4);
    expect(fresh).toMatchObject({
      ip_clicks: 1,
      ip_conversions: 0,
      subnet_clicks: 1,
      subnet_conversions: 0,
      visitor_clicks: 5,
      visitor_conversions: 2,
    });
  });
});

/**
 * A gclid's slot in the click store: the click put under the gclid's own id is its first use (no other write),
 * later uses count in the slot, and a first use with an id of its own (an Idempotency-Key) leaves a marker that
 * no read of clicks returns. The in-memory store and its DynamoDB twin answer alike over a random sequence.
 */
describe('ClickStore gclid slots: in-memory and DynamoDB Local agree', () => {
  it('counts uses, finds first clicks and hides markers identically', async () => {
    const now = T0;
    const propertyId = `prop_gslot${Date.now().toString(36)}`;
    const stores: ClickStore[] = [new MemoryClickStore(), new DynamoClickStore(documentClient, tableName)];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const uses = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const gclid = `gs-${rand(8)}`;
      const keyed = rand(4) === 0;
      const own = newId('clk_');
      const slot = gclidClickId(propertyId, gclid);
      let answers: unknown[];
      if (keyed) {
        // A click with its own id: its use goes to the slot beside the round.
        answers = await Promise.all(
          stores.map((store) => store.countGclidUse(propertyId, gclid, { clickId: own, keepUntil: RETAIN }, now)),
        );
      } else {
        const put = await Promise.all(
          stores.map((store) => store.putClick(clickFixture(propertyId, slot, now, 20), RETAIN)),
        );
        expect(put[1]).toBe(put[0]);
        answers =
          put[0] === 'stored'
            ? [1, 1]
            : await Promise.all(stores.map((store) => store.countGclidUse(propertyId, gclid, undefined, now)));
      }
      expect(answers[1]).toBe(answers[0]);
      uses.set(gclid, (uses.get(gclid) ?? 0) + 1);
      expect(answers[0]).toBe(uses.get(gclid));
      const found = await Promise.all(stores.map((store) => store.findClickByGclid(propertyId, gclid, now)));
      expect(found[1]).toBe(found[0]);
      expect(found[0]).toBeDefined();
      const read = await Promise.all(stores.map((store) => store.getClick(slot)));
      expect(read[1]?.clickId).toBe(read[0]?.clickId);
      // A marker is never a click; a click in the slot is the slot's click, without the slot's counter.
      if (read[0]) expect(found[0]).toBe(slot);
      if (read[1]) expect(read[1]).not.toHaveProperty('uses');
    }
    expect(await stores[1]!.findClickByGclid('prop_other', 'gs-1', now)).toBeUndefined();
    // Past the slot's TTL the gclid is forgotten by both: a use counts as the first.
    const later = (RETAIN + 1) * 1000;
    for (const store of stores) {
      expect(await store.findClickByGclid(propertyId, 'gs-1', later)).toBeUndefined();
      expect(
        await store.countGclidUse(propertyId, 'gs-1', { clickId: newId('clk_'), keepUntil: RETAIN + 86_400 }, later),
      ).toBe(1);
    }
  });
});

/**
 * A click its own request stored and then refused is discarded only while it is as stored: not re-scored or
 * corrected, no later use of its gclid counted on it, not counted by the click counter, and only by its own
 * request (its time). The in-memory store and its DynamoDB twin agree on each case.
 */
describe('ClickStore.discardClick: in-memory and DynamoDB Local agree', () => {
  it('discards only an untouched, uncounted click of its own request', async () => {
    const propertyId = `prop_discard${Date.now().toString(36)}`;
    // Kept past today: reads of clicks ignore expired ones.
    const keep = Math.floor(Date.now() / 1000) + 86_400;
    const counted = new Set<string>();
    const stores: ClickStore[] = [
      new MemoryClickStore((clickId) => counted.has(clickId)),
      new DynamoClickStore(documentClient, tableName),
    ];
    const each = <T>(run: (store: ClickStore) => Promise<T>) => Promise.all(stores.map(run));
    const put = async (clickId: string) => {
      expect(await each((store) => store.putClick(clickFixture(propertyId, clickId, T0, 20), keep))).toEqual([
        'stored',
        'stored',
      ]);
    };
    const plain = newId('clk_');
    await put(plain);
    // Another request's time: not its own click.
    expect(await each((store) => store.discardClick(plain, T0 + 1))).toEqual([false, false]);
    expect(await each((store) => store.discardClick(plain, T0))).toEqual([true, true]);
    expect((await each((store) => store.getClick(plain))).map(Boolean)).toEqual([false, false]);

    const rescored = newId('clk_');
    await put(rescored);
    await each((store) =>
      store.updateClickOutcome(rescored, clickFixture(propertyId, rescored, T0, 90).atClick, [], {}, 1),
    );
    expect(await each((store) => store.discardClick(rescored, T0))).toEqual([false, false]);

    const countedClick = newId('clk_');
    await put(countedClick);
    counted.add(countedClick);
    await documentClient.send(
      new PutCommand({ TableName: tableName, Item: { ...countKey(countedClick), version: 1, expiresAt: keep } }),
    );
    expect(await each((store) => store.discardClick(countedClick, T0))).toEqual([false, false]);

    const slot = gclidClickId(propertyId, 'g-discard');
    await put(slot);
    expect(await each((store) => store.countGclidUse(propertyId, 'g-discard', undefined, T0))).toEqual([2, 2]);
    expect(await each((store) => store.discardClick(slot, T0))).toEqual([false, false]);
    expect((await each((store) => store.getClick(slot))).map(Boolean)).toEqual([true, true]);
  });
});
