import { apiHandler } from '../../shared/http/apiHandler';
import { blocklistCsv, readBlocklist } from '../../shared/reporting/blocklist';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';
import { clickStores } from '../../shared/store';

const DAY_MS = 86_400_000;

export const handler = apiHandler(routes.blocklist, async (req) => {
  const { propertyId, config } = await callerConfig(req.principal, req.params.id);
  const blocklist = await readBlocklist(clickStores().ipReputation, propertyId, {
    threshold: config.thresholds.fraud,
    allowlist: config.allowlist,
    sinceMs: req.receivedAt - req.query.days * DAY_MS,
  });
  if (req.query.format === 'csv') {
    return {
      text: { contentType: 'text/csv; charset=utf-8', body: blocklistCsv(blocklist) },
      headers: { 'Content-Disposition': `attachment; filename="blocklist-${propertyId}.csv"` },
    };
  }
  return { body: { blocklist, total: blocklist.length, generatedAt: new Date(req.receivedAt).toISOString() } };
});
