/** Numbers as the dashboard shows them (the browser tests format the API's answers the same way). */
const locale = () => navigator.language || 'en-US';

export const count = (n: number) => new Intl.NumberFormat(locale()).format(n);
/** A 0–1 share as a percentage with one decimal. */
export const percent = (share: number) =>
  new Intl.NumberFormat(locale(), { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
    share,
  );
export const money = (amount: number, currency: string) =>
  new Intl.NumberFormat(locale(), { style: 'currency', currency }).format(amount);
export const dateTime = (iso: string) =>
  new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(
    new Date(iso),
  ) + ' UTC';
