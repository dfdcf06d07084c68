/**
 * The fakes' page tokens: base64url JSON `{"after": key}` naming the last item served,
 * so a page boundary survives items coming and going between calls. EC2 keys by
 * creation sequence (a number), SSM and Auto Scaling by name (a string).
 */
export type PageKey = string | number;

interface PageKeyTypes {
  string: string;
  number: number;
}

export function encodePageToken(after: PageKey): string {
  return Buffer.from(JSON.stringify({ after })).toString('base64url');
}

/**
 * The key a token of ours carries, when it is of `type`. Anything else (not base64url
 * JSON, or a key of the wrong type) throws `invalid()`: each service answers a foreign
 * token with its own error.
 */
export function decodePageToken<T extends keyof PageKeyTypes>(token: string, type: T, invalid: () => Error): PageKeyTypes[T] {
  try {
    const { after } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === type) return after as PageKeyTypes[T];
  } catch {
    // falls through to the same answer as a well-formed but foreign token
  }
  throw invalid();
}

/**
 * One page of `items` (already in ascending `key` order): those after `after` (all
 * without it), at most `limit` of them (no limit when undefined), and the token of the
 * next page when any are left.
 */
export function pageAfter<T, K extends PageKey>(
  items: readonly T[],
  key: (item: T) => K,
  after: K | undefined,
  limit: number | undefined,
): { page: T[]; nextToken: string | undefined } {
  const rest = after === undefined ? [...items] : items.filter((item) => key(item) > after);
  const page = limit === undefined ? rest : rest.slice(0, limit);
  return { page, nextToken: page.length < rest.length ? encodePageToken(key(page[page.length - 1]!)) : undefined };
}
