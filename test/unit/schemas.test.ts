import { routes } from '../../shared/routes';

// JSON carries numbers DynamoDB refuses (above ~1e126, below 1e-130 in magnitude): such input must be a
// 400 at the edge, not a 500 (or a poison message) when it reaches storage.
describe('numbers that reach DynamoDB', () => {
  it.each([1e300, 5e-324, Number.MAX_VALUE])('rejects a conversion value of %p', (value) => {
    expect(routes.conversion.body.safeParse({ gclid: 'g', value }).success).toBe(false);
  });

  it.each([1e300, 5e-324])('rejects an event data number of %p', (n) => {
    expect(routes.events.body.safeParse({ type: 'page_view', data: { value: n } }).success).toBe(false);
    expect(routes.events.body.safeParse({ type: 'page_view', data: { custom: n } }).success).toBe(false);
  });

  it.each([1e-200, 1e200])('rejects a beacon measurement of %p', (n) => {
    expect(routes.beacon.body.safeParse({ click_id: 'clk_a', time_on_page: n }).success).toBe(false);
  });

  it('accepts ordinary values, zero included', () => {
    expect(routes.conversion.body.safeParse({ gclid: 'g', value: 1_500_000 }).success).toBe(true);
    expect(routes.conversion.body.safeParse({ gclid: 'g', value: 0 }).success).toBe(true);
    expect(routes.beacon.body.safeParse({ click_id: 'clk_a', time_on_page: 0.5, scroll_depth: 0 }).success).toBe(true);
  });
});
