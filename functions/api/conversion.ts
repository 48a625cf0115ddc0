import { apiHandler } from '../../shared/http/apiHandler';
import { acceptConversion, ingestionDeps, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.conversion, async (req) => {
  const { body } = req;
  const answer = await acceptConversion(ingestionDeps(), {
    propertyId: propertyOf(req.principal),
    receivedAt: req.receivedAt,
    ...(body.gclid !== undefined ? { gclid: body.gclid } : {}),
    ...(body.click_id !== undefined ? { clickId: body.click_id } : {}),
    ...(body.click_token !== undefined ? { clickToken: body.click_token } : {}),
    ...(body.value !== undefined ? { value: body.value } : {}),
    ...(body.currency !== undefined ? { currency: body.currency } : {}),
    ...(body.order_id !== undefined ? { orderId: body.order_id } : {}),
    ...(body.event_name !== undefined ? { eventName: body.event_name } : {}),
  });
  return { body: answer };
});
