/**
 * The configuration reference lives in one place: config/pairkeeper.example.yaml
 * documents every key of the schema (src/config/schema.ts) with its default, and
 * the README only points to it. These tests fail when the two drift: a key the
 * schema gained but the example does not show, a key the example still shows
 * after the schema dropped it, a default that changed on one side only, or an
 * example the real loader refuses.
 *
 * Keys the example shows commented out (optional keys with no default, list
 * items) count as documented: an operator reads them the same way.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { parseConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';

const EXAMPLE_PATH = new URL('../../config/pairkeeper.example.yaml', import.meta.url);
const README_PATH = new URL('../../README.md', import.meta.url);

/** A key of the schema, as a path: `groups[].lifecycle.onNoPair`. */
interface SchemaKey {
  path: string;
  /** The default the schema fills in, when it is a plain value an operator would write. */
  default?: string | number | boolean;
}

/** The schema under the wrappers that do not change its shape, and the default one of them fills in. */
function unwrap(schema: z.core.$ZodType): { inner: z.core.$ZodTypes; fallback: unknown } {
  let inner = schema as z.core.$ZodTypes;
  let fallback: unknown;
  for (;;) {
    const def = inner._zod.def;
    if (def.type === 'default' && fallback === undefined) fallback = def.defaultValue;
    if (def.type === 'optional' || def.type === 'nullable' || def.type === 'default' || def.type === 'prefault') inner = def.innerType as z.core.$ZodTypes;
    else if (def.type === 'pipe') inner = def.in as z.core.$ZodTypes; // a transform: the input side is what the file holds
    else return { inner, fallback };
  }
}

/**
 * Every key of a schema, nested objects and the items of lists of objects
 * included (`groups[]`, `groups[].name`). A list of plain values (`topicArns`,
 * `run`, `events`) is one key.
 */
function schemaKeys(schema: z.core.$ZodType, path = ''): SchemaKey[] {
  const { inner, fallback } = unwrap(schema);
  const here: SchemaKey[] = path === '' ? [] : [isPlain(fallback) ? { path, default: fallback } : { path }];
  const def = inner._zod.def;
  if (def.type === 'object') {
    return [...here, ...Object.entries(def.shape).flatMap(([key, value]) => schemaKeys(value, path === '' ? key : `${path}.${key}`))];
  }
  if (def.type === 'array' && unwrap(def.element).inner._zod.def.type === 'object') return [...here, ...schemaKeys(def.element, `${path}[]`)];
  return here;
}

function isPlain(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** A key as the example file shows it. */
interface ExampleKey {
  line: number;
  /** What follows `key:` on its line, its trailing comment included. */
  rest: string;
  /** A comment on the key's line, or a comment line right above it. */
  explained: boolean;
}

/**
 * A YAML key line, or a commented-out one (`  #   mountPoint: /var/lib/etcd`):
 * indentation, the comment marker with the indentation after it, a list dash,
 * the key and the rest of the line. Prose comments do not match: a key is one
 * word followed by a colon and a space or the end of the line.
 */
const KEY_LINE = /^(?<indent> *)(?:# ?(?<inComment> *))?(?<dash>- )?(?<key>[A-Za-z][A-Za-z0-9]*):(?:\s(?<rest>.*))?$/;

/**
 * The keys the example documents, by path, read line by line from the
 * indentation so that commented-out blocks count too (the YAML parser would
 * skip them). A list item contributes its own path (`notify.webhooks[]`).
 */
function exampleKeys(text: string): Map<string, ExampleKey> {
  const keys = new Map<string, ExampleKey>();
  const open: { column: number; path: string; item: boolean }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const m = KEY_LINE.exec(line)?.groups;
    if (!m) return;
    const start = m.indent!.length + (m.inComment?.length ?? 0);
    const column = start + (m.dash ? 2 : 0);
    const rest = m.rest ?? '';
    const above = lines[index - 1] ?? '';
    // A trailing comment (`rest` may be one alone), or a prose comment line right above.
    const explained = / #/.test(` ${rest}`) || (/^\s*#/.test(above) && !KEY_LINE.test(above));
    const record = (path: string) => {
      if (!keys.has(path)) keys.set(path, { line: index + 1, rest, explained });
    };
    if (m.dash) {
      // An item belongs to the key at or left of its dash (`webhooks: []` then `# - url:` at the same column).
      while (open.length && (open.at(-1)!.column > start || (open.at(-1)!.column === start && open.at(-1)!.item))) open.pop();
      const itemPath = `${open.at(-1)?.path ?? ''}[]`;
      record(itemPath);
      open.push({ column: start, path: itemPath, item: true });
    } else {
      while (open.length && open.at(-1)!.column >= column) open.pop();
    }
    const parent = open.at(-1)?.path;
    const path = parent ? `${parent}.${m.key!}` : m.key!;
    record(path);
    open.push({ column, path, item: false });
  });
  return keys;
}

const exampleText = readFileSync(EXAMPLE_PATH, 'utf8');
const documented = exampleKeys(exampleText);
const schema = schemaKeys(configSchema);

describe('the configuration reference (config/pairkeeper.example.yaml)', () => {
  it('is a configuration the real loader accepts', () => {
    const config = parseConfig(exampleText, 'config/pairkeeper.example.yaml');
    assert.equal(config.groups.length, 1);
  });

  it('documents every key of the schema, nested objects and list items included', () => {
    const missing = schema.map((k) => k.path).filter((path) => !documented.has(path));
    assert.deepEqual(missing, [], `keys of src/config/schema.ts the example does not document: ${missing.join(', ')}`);
  });

  it('documents no key the schema does not have', () => {
    const known = new Set(schema.map((k) => k.path));
    const stale = [...documented.keys()].filter((path) => !known.has(path));
    assert.deepEqual(stale, [], `keys in the example the schema refuses: ${stale.join(', ')}`);
  });

  it('says what each key is for, on its line or right above it', () => {
    const bare = [...documented].filter(([, key]) => !key.explained).map(([path, key]) => `${path} (line ${key.line})`);
    assert.deepEqual(bare, [], `keys without a comment: ${bare.join(', ')}`);
  });

  it('shows each default the schema fills in, as the value or as "default: …" in its comment', () => {
    const wrong = schema.flatMap(({ path, default: fallback }) => {
      const shown = documented.get(path);
      if (fallback === undefined || !shown) return [];
      const doc = parseDocument(shown.rest);
      const said = /\bdefault: (\S+)/.exec(doc.contents?.comment ?? doc.comment ?? '')?.[1];
      const ok = doc.toJS() === fallback || (said !== undefined && parseDocument(said).toJS() === fallback);
      return ok ? [] : [`${path} (line ${shown.line}): shows ${JSON.stringify(shown.rest)}, the default is ${JSON.stringify(fallback)}`];
    });
    assert.deepEqual(wrong, []);
  });
});

describe('the README, on configuration', () => {
  const readme = readFileSync(README_PATH, 'utf8');

  it('points to the example file as the reference', () => {
    assert.match(readme, /\]\(config\/pairkeeper\.example\.yaml\)/);
  });

  it('keeps no table of keys of its own, so there is nothing to drift', () => {
    const sections = Object.keys(configSchema.shape).join('|');
    const rows = readme.split('\n').filter((line) => new RegExp(`^\\| \`(${sections})[.[]`).test(line));
    assert.deepEqual(rows, [], 'document keys in config/pairkeeper.example.yaml instead');
  });

  it('shows only configuration the real loader accepts', () => {
    const blocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
    assert.ok(blocks.length > 0, 'the README shows a configuration');
    for (const block of blocks) assert.doesNotThrow(() => parseConfig(block, 'README.md'), block);
  });
});
