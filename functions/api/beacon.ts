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
    clickId: body.click_id,
    gclid: body.gclid,
    clickToken: body.click_token,
    behaviour: {
      timeOnPageSeconds: body.time_on_page,
      scrollDepth: body.scroll_depth,
      mouseEntropy: body.mouse_entropy,
      honeypot: body.honeypot,
      touch: body.touch,
    },
  });
  return { status: 204 };
});
