import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import nunjucks from 'nunjucks';
import { parse } from 'yaml';
import { WebhookTarget } from '../../src/notify/webhook.ts';
import { notifySchema } from '../../src/config/notify-schema.ts';

/**
 * The Salt examples in config/salt/ cannot run here (no Salt master), so this checks
 * what can be checked: the YAML parses, the reactor listens on exactly the tags
 * pairkeeper's webhook produces through salt-api, and the reactor files it names
 * read the event where salt-api puts it. The reactors are rendered the way Salt
 * renders an SLS (Jinja, then YAML) with nunjucks standing in for Jinja, so a
 * hostile message's ids can be fed through them and the resulting states read.
 */
const read = (name: string) => readFileSync(new URL(`../../config/salt/${name}`, import.meta.url), 'utf8');

/**
 * A Python dict as Jinja sees it: subscripts read the keys, `.get(key, default)` is
 * the dict's method whatever the keys are (a message with a "get" key included).
 */
function pyDict(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pyDict);
  if (value === null || typeof value !== 'object') return value;
  const entries = new Map(Object.entries(value).map(([k, v]) => [k, pyDict(v)]));
  const get = (key: string, fallback: unknown = null) => (entries.has(key) ? entries.get(key) : fallback);
  return new Proxy(Object.fromEntries(entries), { get: (target, key) => (key === 'get' ? get : (target as Record<string | symbol, unknown>)[key]) });
}

/**
 * Salt's Jinja environment, as far as the reactors use it: no autoescaping, an
 * undefined value that fails when printed (StrictUndefined), the `json` filter
 * (json.dumps, ASCII only) and the `match` test (Python's re.match). Python's `$`
 * also matches before a trailing newline, which JavaScript's does not: the emulation
 * refuses `$` so the templates must end a pattern with `\Z`, whose JavaScript
 * equivalent is `$`.
 */
function saltJinja(): nunjucks.Environment {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  env.addFilter('json', (value: unknown) => JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  (env as nunjucks.Environment & { addTest(name: string, test: (value: unknown, pattern: string) => boolean): void }).addTest('match', (value, pattern) => {
    if (pattern.includes('$')) throw new Error(`pattern ${pattern}: Python's $ matches before a trailing newline; end it with \\Z`);
    if (typeof value !== 'string') throw new TypeError('expected string or bytes-like object'); // what re.match raises
    return new RegExp(`^(?:${pattern.replaceAll('\\Z', '$')})`).test(value);
  });
  return env;
}

/** The states a reactor file gives for one message posted to salt-api's hook. */
function react(file: string, post: unknown): Record<string, unknown> {
  const rendered = saltJinja().renderString(read(file), { data: pyDict({ post }) });
  return (parse(rendered) as Record<string, unknown> | null) ?? {};
}

/** salt-api's rest_cherrypy with an open hook (webhook_disable_auth) must listen on loopback only. */
function saltApiProblems(masterConf: string): string[] {
  const api = (parse(masterConf) as { rest_cherrypy: { host?: string; webhook_disable_auth?: unknown } }).rest_cherrypy;
  const host = api.host ?? '0.0.0.0'; // rest_cherrypy's default: every interface
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return api.webhook_disable_auth === true && !loopback ? [`webhook_disable_auth is on while salt-api listens on ${host}`] : [];
}

const GOOD_ID = 'i-0abc1234def567890';
const attachedPost = (overrides: Record<string, unknown> = {}) => ({ type: 'pair.attached', instanceId: GOOD_ID, nodeId: '2', privateIp: '10.0.1.12', ...overrides });

/** Instance ids an attacker with sns:Publish (or a caller of an open hook) might send. */
const HOSTILE_IDS: unknown[] = [
  'i-*',
  '*',
  'i-0abc1234*',
  'i-0abc1234?',
  'i-[0-9a-f]*',
  'i-0abc1234,i-0def5678',
  'i-0abc1234\n',
  'i-0abc1234\nevil: {}',
  'i-0abc1234: x',
  "i-0abc1234' }}",
  'I-0ABC1234',
  'i-0abc123',
  'i-0abc1234def5678901',
  ' i-0abc1234',
  'i-0abc1234 ',
  ['i-0abc1234'],
  { match: 'i-*' },
  12345678,
  null,
];

describe('Salt examples', () => {
  it('the reactor listens on the tags a {type} webhook URL gives through salt-api', () => {
    const master = parse(read('master.d-pairkeeper.conf')) as { reactor: Record<string, string[]>[] };
    const webhook = new WebhookTarget(notifySchema.parse({ webhooks: [{ url: 'https://salt:8000/hook/pairkeeper/{type}' }] }).webhooks[0]!);
    // salt-api fires POST /hook/<path> as salt/netapi/hook/<path>.
    const tag = (type: 'pair.attached' | 'pair.released') => `salt/netapi${new URL(webhook.urlFor(type)).pathname}`;
    const tags = master.reactor.map((r) => Object.keys(r)[0]);
    assert.deepEqual(tags, [tag('pair.attached'), tag('pair.released')]);
  });

  it('the reactors read the event from data[post] and act on the instance id', () => {
    for (const [file, type, action] of [
      ['reactor-attached.sls', 'pair.attached', 'wheel.key.accept'],
      ['reactor-released.sls', 'pair.released', 'wheel.key.delete'],
    ] as const) {
      const text = read(file);
      assert.match(text, /\{% set event = data\['post'\] %\}/, file);
      assert.ok(text.includes(`event.get('type') == '${type}'`), file);
      assert.ok(text.includes(action), file);
    }
  });

  it('the reactors accept and delete exactly the key of a well-formed instance id, quoted', () => {
    assert.deepEqual(react('reactor-attached.sls', attachedPost()), {
      [`accept_${GOOD_ID}`]: { 'wheel.key.accept': [{ args: [{ match: GOOD_ID }] }] },
      [`highstate_${GOOD_ID}`]: { 'local.state.apply': [{ tgt: GOOD_ID }, { kwarg: { pillar: { node_id: '2', node_ip: '10.0.1.12' } } }] },
    });
    assert.deepEqual(react('reactor-released.sls', { type: 'pair.released', instanceId: 'i-0123abcd' }), {
      'delete_i-0123abcd': { 'wheel.key.delete': [{ args: [{ match: 'i-0123abcd' }] }] },
    });
    for (const id of ['i-0123abcd', 'i-0123456789abcdef0']) assert.ok(`accept_${id}` in react('reactor-attached.sls', attachedPost({ instanceId: id })), id);
  });

  for (const id of HOSTILE_IDS) {
    it(`the reactors do nothing for instance id ${JSON.stringify(id)}`, () => {
      assert.deepEqual(react('reactor-attached.sls', attachedPost({ instanceId: id })), {});
      assert.deepEqual(react('reactor-released.sls', { type: 'pair.released', instanceId: id }), {});
    });
  }

  it('the reactors do nothing for a body that is not the event they handle', () => {
    for (const post of ['i-*', ['i-*'], {}, { instanceId: GOOD_ID }, attachedPost({ type: 'pair.released' }), attachedPost({ nodeId: ['2'] }), attachedPost({ type: 'instance.waiting' })]) {
      assert.deepEqual(react('reactor-attached.sls', post), {}, JSON.stringify(post));
    }
    assert.deepEqual(react('reactor-released.sls', { type: 'pair.attached', instanceId: GOOD_ID }), {});
  });

  it('the node id and IP reach the pillar as quoted strings, whatever they hold', () => {
    const hostile = '2\nevil: true\n"quoted" {{ 7 * 7 }} \u00e9';
    const states = react('reactor-attached.sls', attachedPost({ nodeId: hostile, privateIp: '10.0.1.12\n- x' }));
    assert.deepEqual(Object.keys(states), [`accept_${GOOD_ID}`, `highstate_${GOOD_ID}`]);
    const apply = (states[`highstate_${GOOD_ID}`] as Record<string, [unknown, { kwarg: { pillar: unknown } }]>)['local.state.apply']!;
    assert.deepEqual(apply[1].kwarg.pillar, { node_id: hostile, node_ip: '10.0.1.12\n- x' });
    const withoutIp = react('reactor-attached.sls', attachedPost({ privateIp: undefined }));
    assert.ok(`highstate_${GOOD_ID}` in withoutIp);
  });

  it('salt-api turns off the hook\'s auth only when it listens on loopback, in the example and in its commented alternative', () => {
    const text = read('master.d-pairkeeper.conf');
    assert.deepEqual(saltApiProblems(text), []);
    const alternative = text.replace(/^ {2}# (host|webhook_disable_auth):/gm, '  $1:');
    assert.notEqual(alternative, text);
    assert.equal((parse(alternative) as { rest_cherrypy: { webhook_disable_auth?: unknown } }).rest_cherrypy.webhook_disable_auth, true);
    assert.deepEqual(saltApiProblems(alternative), []);
    assert.match(text, /webhook_disable_auth must stay off unless salt-api listens on loopback/);
    // And the check does see an open hook on every interface.
    assert.deepEqual(saltApiProblems(alternative.replace(/^ {2}host: 127\.0\.0\.1\n/m, '')), ['webhook_disable_auth is on while salt-api listens on 0.0.0.0']);
    assert.deepEqual(saltApiProblems(alternative.replace('host: 127.0.0.1', 'host: 10.0.0.5')), ['webhook_disable_auth is on while salt-api listens on 10.0.0.5']);
  });

  it('the pillar example points http_json at /v1/facts on the admin listener', () => {
    const pillar = parse(read('pillar-cluster-facts.conf')) as { ext_pillar: { http_json?: { url: string } }[] };
    assert.equal(pillar.ext_pillar[0]!.http_json!.url, 'http://127.0.0.1:8081/v1/facts');
  });
});
