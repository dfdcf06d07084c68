import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import { notifySchema } from '../../src/config/notify-schema.ts';
import { NOTIFY_EVENT_TYPES } from '../../src/domain/notify-event.ts';

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
    ['an auth header file over plain http to another host', { webhooks: [{ url: 'http://salt:8000/hook/pairkeeper/{type}', authHeaderFile: '/etc/pairkeeper/token', authHeaderName: 'X-Auth-Token' }] }, /^notify\.webhooks\.0\.url: plain http would send the X-Auth-Token header \(authHeaderFile\) in clear text; use https, or a loopback host$/],
    ['an Authorization header over plain http', { webhooks: [{ url: 'http://salt/hook', headers: { authorization: 'Bearer abc' } }] }, /^notify\.webhooks\.0\.url: plain http would send the authorization header \(headers\) in clear text; use https, or a loopback host$/],
    ['an X-Auth-Token header over plain http', { webhooks: [{ url: 'http://salt/hook', headers: { 'X-Auth-Token': 'abc' } }] }, /^notify\.webhooks\.0\.url: plain http would send the X-Auth-Token header \(headers\)/],
    ['an auth header over http to a name that only starts like loopback', { webhooks: [{ url: 'http://127.0.0.1.nip.io/hook', authHeaderFile: '/t' }] }, /^notify\.webhooks\.0\.url: plain http/],
    ['an auth header over http to localhost.<domain>', { webhooks: [{ url: 'http://localhost.example.com/hook', authHeaderFile: '/t' }] }, /^notify\.webhooks\.0\.url: plain http/],
    ['an auth header over http to a private address', { webhooks: [{ url: 'http://10.0.0.5:8000/hook', authHeaderFile: '/t' }] }, /^notify\.webhooks\.0\.url: plain http/],
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

  it('accepts an auth header over https anywhere, and over plain http to loopback only', () => {
    for (const url of ['https://salt.example.internal:8000/hook/{type}', 'http://127.0.0.1:8000/hook', 'http://127.2.3.4/hook', 'http://[::1]:8000/hook', 'http://localhost:8000/hook', 'http://LOCALHOST/hook']) {
      assert.deepEqual(issues({ webhooks: [{ url, authHeaderFile: '/etc/pairkeeper/token' }] }), [], url);
      assert.deepEqual(issues({ webhooks: [{ url, headers: { Authorization: 'Bearer abc' } }] }), [], url);
    }
    assert.deepEqual(issues({ webhooks: [{ url: 'http://salt:8000/hook', headers: { 'X-Cluster': 'prod' } }] }), [], 'plain http with no auth header stays allowed');
  });

  it('the example block is valid and documents every key the schema has', () => {
    const text = readFileSync(new URL('../../config/pairkeeper.example.yaml', import.meta.url), 'utf8');
    const { notify } = host.parse({ notify: (parse(text) as { notify: unknown }).notify });
    const documented = (obj: object, prefix = ''): string[] =>
      Object.entries(obj).flatMap(([k, v]) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? documented(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));
    const keys = [
      ...documented(notify),
      'factsFile',
      ...Object.keys(notifySchema.parse({ webhooks: [{ url: 'https://x/', authHeaderFile: 'f' }] }).webhooks[0]!),
      ...Object.keys(notifySchema.parse({ commands: [{ run: ['x'] }] }).commands[0]!),
    ];
    for (const key of keys) {
      const leaf = key.split('.').at(-1)!;
      assert.match(text, new RegExp(`^\\s*(#\\s*)?(- )?${leaf}:`, 'm'), `${key} is in the example`);
    }
  });
});
