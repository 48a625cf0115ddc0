import { apiHandler } from '../../shared/http/apiHandler';
import { acceptBeacon, ingestionDeps, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

/**
 * 204 as soon as the beacon is on the queue; the beacon scorer finds the click (by id, token or gclid)
 * and checks it belongs to this property.
 */
export const handler = apiHandler(routes.beacon, async (req) => {
  const { body } = req;
  await acceptBeacon(ingestionDeps(), {
    propertyId: propertyOf(req.principal),
    receivedAt: req.receivedAt,
    ...(body.click_id !== undefined ? { clickId: body.click_id } : {}),
    ...(body.gclid !== undefined ? { gclid: body.gclid } : {}),
    ...(body.click_token !== undefined ? { clickToken: body.click_token } : {}),
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
