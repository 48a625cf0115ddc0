import { microsoftExclusionsFile } from '../../shared/googleAds/microsoftAds';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';
import { clickStores, exclusionLedger } from '../../shared/store';

export const handler = apiHandler(routes.microsoftExclusions, async (req) => {
  const property = await callerConfig(req.principal, req.params.id);
  const file = await microsoftExclusionsFile(
    { ipReputation: clickStores().ipReputation, ledger: exclusionLedger(), now: req.receivedAt },
    property,
    req.query,
  );
  return {
    text: { contentType: 'text/csv; charset=utf-8', body: file.csv },
    headers: {
      'Content-Disposition': `attachment; filename="microsoft-ip-exclusions-${property.propertyId}.csv"`,
      'Cache-Control': 'no-store',
    },
  };
});
