/** Runs fn over items with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}

/**
 * mapLimit per group: at most `limit` at once within each group (a platform), every group at
 * the same time — a slow platform never holds back another's requests. Results in input order.
 */
export async function mapLimitPerGroup<T, R>(items: readonly T[], groupOf: (item: T) => string, limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  const groups = new Map<string, number[]>()
  items.forEach((item, i) => {
    const key = groupOf(item)
    const group = groups.get(key)
    if (group) group.push(i)
    else groups.set(key, [i])
  })
  await Promise.all(
    [...groups.values()].map((indexes) =>
      mapLimit(indexes, limit, async (i) => {
        results[i] = await fn(items[i], i)
      }),
    ),
  )
  return results
}
