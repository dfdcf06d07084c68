import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { WebhookTarget } from '../../src/notify/webhook.ts';
import { notifySchema } from '../../src/config/notify-schema.ts';

/**
 * The Salt examples in config/salt/ cannot run here (no Salt master), so this checks
 * what can be checked: the YAML parses, the reactor listens on exactly the tags
 * pairkeeper's webhook produces through salt-api, and the reactor files it names
 * read the event where salt-api puts it.
 */
const read = (name: string) => readFileSync(new URL(`../../config/salt/${name}`, import.meta.url), 'utf8');

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

  it('the pillar example points http_json at /v1/facts on the admin listener', () => {
    const pillar = parse(read('pillar-cluster-facts.conf')) as { ext_pillar: { http_json?: { url: string } }[] };
    assert.equal(pillar.ext_pillar[0]!.http_json!.url, 'http://127.0.0.1:8081/v1/facts');
  });
});
