import type { IpIntel, IpIntelLookup } from '../intel/types';
import type { ClickRecord } from '../model';
import { definedOnly } from '../optional';
import { clickFacts, parseValueTrack, sourceKeys } from '../scoring/facts';
import { rescoreClick, scoreClick, scoreVisitor } from '../scoring/scoreClick';
import { velocityCountersFor } from '../scoring/velocity';
import type { SourceStatsStore } from '../store/sourceStats';
import type { IpOnlyScore, ScoringPort } from './ports';

interface EngineScoringDeps {
  /** The IP-intelligence snapshot to use now (S3's newest, else the bundled one). */
  readonly intel: () => Promise<IpIntelLookup>;
  readonly sources: SourceStatsStore;
}

/** The keys a stored click teaches; a click stored before learnsFrom existed teaches its sources. */
const taughtBy = (click: ClickRecord): readonly string[] => click.signals?.learnsFrom ?? sourceKeys(click.valueTrack);

/** Stands in when no snapshot can be loaded at all: every address unknown, verdicts marked degraded. */
const NO_INTEL: IpIntelLookup = { lookup: () => undefined, version: 'none' };

/**
 * The ScoringPort on the engine (shared/scoring): facts and the velocity windows they count; the caller
 * counts them (the store's click round) while the source-quality snapshot is read; then the pure verdict.
 */
export function engineScoring(deps: EngineScoringDeps): ScoringPort {
  let degraded = false;
  const intel = async (): Promise<IpIntelLookup> => {
    try {
      const lookup = await deps.intel();
      degraded = false;
      return lookup;
    } catch {
      degraded = true;
      return NO_INTEL;
    }
  };

  return {
    async prepareClick(property, click) {
      const facts = clickFacts(
        definedOnly({
          propertyId: click.propertyId,
          ip: click.ip,
          userAgent: click.userAgent,
          gclid: click.gclid,
          pageUrl: click.pageUrl,
          visitorId: click.clientVisitorId,
          token: click.token,
        }),
        await intel(),
      );
      const quality = deps.sources.quality(click.propertyId, click.at);
      // Awaited by judge; a click round that fails first must not leave this rejection unhandled.
      quality.catch(() => undefined);
      return {
        counters: velocityCountersFor(facts, click.at),
        judge: async (values) => scoreClick(property.engine, facts, values, await quality),
      };
    },

    rescoreClick: (property, signals, update) => rescoreClick(property.engine, signals, update),

    scoreVisitor: (property, clicks, converted) => scoreVisitor(property.engine, clicks, converted),

    async scoreIp(property, ip, userAgent): Promise<IpOnlyScore> {
      const lookup: IpIntel | undefined = (await intel()).lookup(ip);
      const facts = clickFacts(definedOnly({ propertyId: property.id, ip, userAgent }), {
        lookup: () => lookup,
        version: 'ip-check',
      });
      // An IP check without a user agent says nothing about the agent: no missing_ua penalty.
      const engine =
        userAgent === undefined
          ? { ...property.engine, ruleWeights: { ...property.engine.ruleWeights, missing_ua: 0 } }
          : property.engine;
      const verdict = scoreClick(engine, facts, {});
      const ua = facts.userAgent.kind;
      return {
        verdict,
        proxy: lookup?.cloud !== undefined || lookup?.datacenter === true,
        tor: lookup?.tor === true,
        vpn: lookup?.vpn === true,
        crawler: lookup?.crawler !== undefined || ua === 'crawler',
        bot: ua === 'crawler' || ua === 'automation',
      };
    },

    // Clicks already FRAUD at click time teach nothing (a flood of junk clicks must not make a real source
    // look bad): they only count towards their sources' invalid share. A click teaches the keys fixed at
    // click time (ClickSignals.learnsFrom: its sources under the per-address cap, its repeated-actor levels),
    // and its trusted conversion counts in exactly those keys, so conversions ≤ clicks everywhere.
    async recordSourceClicks(clicks) {
      if (clicks.length === 0) return;
      await deps.sources.apply(
        clicks.map(({ property, click }) =>
          click.atClick.label === 'FRAUD'
            ? { propertyId: property.id, sources: sourceKeys(click.valueTrack), clicks: 0, conversions: 0, fraud: 1 }
            : { propertyId: property.id, sources: taughtBy(click), clicks: 1, conversions: 0 },
        ),
        Math.max(...clicks.map(({ click }) => click.at)),
      );
    },
    recordSourceConversion: (property, click: ClickRecord) =>
      click.atClick.label === 'FRAUD'
        ? Promise.resolve()
        : deps.sources.apply(
            [{ propertyId: property.id, sources: taughtBy(click), clicks: 0, conversions: 1 }],
            click.at,
          ),
    valueTrack: parseValueTrack,
    intelDegraded: () => degraded,
  };
}
