import { apiHandler } from '../../shared/http/apiHandler';
import { acceptConversion, ingestionDeps, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.conversion, async (req) => {
  const { body } = req;
  const answer = await acceptConversion(ingestionDeps(), {
    propertyId: propertyOf(req.principal),
    receivedAt: req.receivedAt,
    gclid: body.gclid,
    clickId: body.click_id,
    clickToken: body.click_token,
    value: body.value,
    currency: body.currency,
    orderId: body.order_id,
    eventName: body.event_name,
  });
  return { body: answer };
});
