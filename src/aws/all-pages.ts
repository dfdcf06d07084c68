/**
 * Every item of a paged AWS answer: asks again with each `NextToken` until there is
 * none. `fetch` makes one call for a page (paced and retried as its caller wants).
 */
export async function allPages<P extends { NextToken?: string | undefined }, T>(fetch: (token: string | undefined) => Promise<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    out.push(...(items(page) ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}
