import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import { notifySchema } from '../../src/config/notify-schema.ts';
import { NOTIFY_EVENT_TYPES } from '../../src/notify/events.ts';

/** How the main schema will hold it: an absent `notify` key gives the defaults. */
const host = z.strictObject({ notify: notifySchema });

function issues(input: unknown): string[] {
  const result = host.safeParse({ notify: input });
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('notify configuration', () => {
  it('fills the defaults, also when the key is absent', () => {
    assert.deepEqual(host.parse({}).notify, { webhooks: [], commands: [], retry: { attempts: 5, baseMs: 1000, capMs: 60_000 }, queueLimit: 1000 });
    const { webhooks, commands } = notifySchema.parse({ webhooks: [{ url: 'https://salt:8000/hook/pairkeeper/{type}' }], commands: [{ run: ['/bin/true'] }] });
    assert.deepEqual(webhooks[0], { url: 'https://salt:8000/hook/pairkeeper/{type}', events: [...NOTIFY_EVENT_TYPES], headers: {}, authHeaderName: 'Authorization', timeoutMs: 5000 });
    assert.deepEqual(commands[0], { run: ['/bin/true'], events: [...NOTIFY_EVENT_TYPES], env: {}, passEnv: [], timeoutMs: 30_000 });
  });

  const bad: [string, unknown, RegExp][] = [
    ['a URL that is not http(s)', { webhooks: [{ url: 'ftp://salt/hook' }] }, /^notify\.webhooks\.0\.url: expected an http or https URL$/],
    ['a URL that does not parse', { webhooks: [{ url: '/hook/pairkeeper' }] }, /^notify\.webhooks\.0\.url: not a valid URL$/],
    ['credentials in the URL', { webhooks: [{ url: 'https://u:p@salt/hook' }] }, /^notify\.webhooks\.0\.url: no credentials in the URL; use authHeaderFile$/],
    ['an unknown event type', { commands: [{ run: ['x'], events: ['pair.attach'] }] }, /^notify\.commands\.0\.events\.0:/],
    ['no events at all', { commands: [{ run: ['x'], events: [] }] }, /^notify\.commands\.0\.events:/],
    ['an empty argv', { commands: [{ run: [] }] }, /^notify\.commands\.0\.run:/],
    ['a bad header name', { webhooks: [{ url: 'http://salt/hook', headers: { 'X Bad': 'v' } }] }, /^notify\.webhooks\.0\.headers\.X Bad: not a valid HTTP header name$/],
    ['an unknown key', { webhooks: [{ url: 'http://salt/hook', token: 'abc' }] }, /^notify\.webhooks\.0: Unrecognized key/],
    ['an env name that is not a variable name', { commands: [{ run: ['x'], env: { 'A-B': '1' } }] }, /^notify\.commands\.0\.env\.A-B: not a valid environment variable name$/],
    ['an env value with a NUL byte', { commands: [{ run: ['x'], env: { A: 'a\0b' } }] }, /^notify\.commands\.0\.env\.A: contains a NUL byte$/],
    ['env setting an event variable', { commands: [{ run: ['x'], env: { NODE_ID: '7' } }] }, /^notify\.commands\.0\.env\.NODE_ID: set by pairkeeper from the event$/],
    ['passEnv naming an event variable', { commands: [{ run: ['x'], passEnv: ['PAIRKEEPER_EVENT'] }] }, /^notify\.commands\.0\.passEnv\.0: set by pairkeeper from the event$/],
    ['capMs below baseMs', { retry: { baseMs: 5000, capMs: 100 } }, /^notify\.retry\.capMs: capMs must be at least baseMs$/],
    ['zero attempts', { retry: { attempts: 0 } }, /^notify\.retry\.attempts:/],
  ];
  for (const [what, input, message] of bad) {
    it(`refuses ${what}, naming the key`, () => {
      const found = issues(input);
      assert.ok(
        found.some((i) => message.test(i)),
        `expected ${message} in ${JSON.stringify(found)}`,
      );
    });
  }

  it('the example block is valid and documents every key the schema has', () => {
    const text = readFileSync(new URL('../../config/pairkeeper.example.yaml', import.meta.url), 'utf8');
    const { notify } = host.parse({ notify: (parse(text) as { notify: unknown }).notify });
    const documented = (obj: object, prefix = ''): string[] =>
      Object.entries(obj).flatMap(([k, v]) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? documented(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));
    const keys = [
      ...documented(notify),
      'factsFile',
      ...Object.keys(notifySchema.parse({ webhooks: [{ url: 'http://x/', authHeaderFile: 'f' }] }).webhooks[0]!),
      ...Object.keys(notifySchema.parse({ commands: [{ run: ['x'] }] }).commands[0]!),
    ];
    for (const key of keys) {
      const leaf = key.split('.').at(-1)!;
      assert.match(text, new RegExp(`^\\s*(#\\s*)?(- )?${leaf}:`, 'm'), `${key} is in the example`);
    }
  });
});
