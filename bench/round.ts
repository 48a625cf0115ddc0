/** `n` to `digits` decimal places: how the bench prints every measured figure. */
export const rounded = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
