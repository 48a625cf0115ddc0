import { apiHandler } from '../../shared/http/apiHandler';
import { acceptBeacon, ingestionDeps, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

/** 204 as soon as the beacon is on the queue; the beacon scorer checks the click belongs to this property. */
export const handler = apiHandler(routes.beacon, async (req) => {
  const { body } = req;
  await acceptBeacon(ingestionDeps(), {
    propertyId: propertyOf(req.principal),
    receivedAt: req.receivedAt,
    clickId: body.click_id,
    behaviour: {
      ...(body.time_on_page !== undefined ? { timeOnPageSeconds: body.time_on_page } : {}),
      ...(body.scroll_depth !== undefined ? { scrollDepth: body.scroll_depth } : {}),
      ...(body.mouse_entropy !== undefined ? { mouseEntropy: body.mouse_entropy } : {}),
      ...(body.honeypot !== undefined ? { honeypot: body.honeypot } : {}),
      ...(body.touch !== undefined ? { touch: body.touch } : {}),
    },
  });
  return { status: 204 };
});
