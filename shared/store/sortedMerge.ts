/**
 * Streams of pages, read one page ahead so the next request is in flight while the current page is consumed.
 * `fetchPage(cursor)` returns a page's items and the cursor of the next page (undefined at the end).
 */
export async function* prefetchedPages<T, C>(
  fetchPage: (cursor: C | undefined) => Promise<{ items: readonly T[]; next: C | undefined }>,
): AsyncGenerator<T> {
  let pending: Promise<{ items: readonly T[]; next: C | undefined }> | undefined = fetchPage(undefined);
  while (pending) {
    const page: { items: readonly T[]; next: C | undefined } = await pending;
    pending = page.next === undefined ? undefined : fetchPage(page.next);
    // A consumer that stops early must not leave an unhandled rejection behind.
    pending?.catch(() => undefined);
    yield* page.items;
  }
}

/**
 * Merges sources that are each sorted by `key` into one sorted stream, holding one item per source.
 * Ties keep source order, so the result is deterministic.
 */
export async function* mergeSorted<T>(
  sources: readonly AsyncIterator<T>[],
  key: (item: T) => string,
): AsyncGenerator<T> {
  const heads = await Promise.all(sources.map((source) => source.next()));
  for (;;) {
    let best = -1;
    let bestKey = '';
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done) continue;
      const k = key(head.value);
      if (best < 0 || k < bestKey) {
        best = i;
        bestKey = k;
      }
    }
    if (best < 0) return;
    const winner = heads[best]!;
    heads[best] = await sources[best]!.next();
    yield winner.value as T;
  }
}
