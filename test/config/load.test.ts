import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';

const MINIMAL = 'aws: { region: eu-west-1 }\nsns: { topicArns: [arn:aws:sns:eu-west-1:123456789012:etcd] }\n';

describe('configuration', () => {
  it('fills the documented defaults', () => {
    const config = parseConfig(MINIMAL, 'test');
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 8080, maxEventLoopDelayMs: 1000 });
    assert.deepEqual(config.resync, { intervalSeconds: 60 });
    assert.deepEqual(config.admin, { host: '127.0.0.1', port: 8081 });
    assert.equal(config.sns.autoConfirm, true);
    assert.equal(config.sns.maxMessageAgeSeconds, 3600);
    // No pattern: the exact SNS host of each topic's region (test/sns/url-policy.test.ts).
    assert.equal(config.sns.certHostPattern, undefined);
    assert.deepEqual(config.sns.signatureVersions, ['1', '2']);
  });

  it('the example file is valid and documents every key the schema has', () => {
    const text = readFileSync(new URL('../../config/pairkeeper.example.yaml', import.meta.url), 'utf8');
    const config = parseConfig(text, 'example');
    const documented = (obj: object, prefix = ''): string[] =>
      Object.entries(obj).flatMap(([k, v]) =>
        typeof v === 'object' && v !== null && !Array.isArray(v) ? documented(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    for (const key of documented(config)) {
      const leaf = key.split('.').at(-1)!;
      assert.match(text, new RegExp(`^\\s*${leaf}:`, 'm'), `${key} is in the example`);
    }
  });

  const bad: [string, string, RegExp][] = [
    ['an unknown top-level key', `${MINIMAL}colour: blue\n`, /colour: unknown key/],
    ['an unknown nested key', `${MINIMAL}listen: { prot: 1 }\n`, /listen\.prot: unknown key/],
    ['a bad port', `${MINIMAL}admin: { port: 70000 }\n`, /admin\.port:/],
    ['a missing region', 'sns: { topicArns: [arn:aws:sns:eu-west-1:123456789012:etcd] }\n', /aws:/],
    ['a bad topic ARN', 'aws: { region: eu-west-1 }\nsns: { topicArns: [etcd] }\n', /sns\.topicArns\.0: expected an SNS topic ARN/],
    ['an empty allowlist', 'aws: { region: eu-west-1 }\nsns: { topicArns: [] }\n', /sns\.topicArns: name at least one topic, unless intake\.sqs takes the events/],
    ['neither a topic nor a queue', 'aws: { region: eu-west-1 }\n', /sns\.topicArns: name at least one topic, unless intake\.sqs takes the events/],
    ['a pattern that is not a regex', `${MINIMAL.replace('] }', '], certHostPattern: "(" }')}`, /sns\.certHostPattern: not a valid regular expression/],
    ['a wrong type', `${MINIMAL.replace('] }', '], autoConfirm: "yes" }')}`, /sns\.autoConfirm:/],
    ['YAML that does not parse', 'aws: [\n', /not valid YAML/],
    ['a list at the top', '- a\n', /top level must be a mapping/],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what}, naming the key`, () => {
      assert.throws(() => parseConfig(text, 'f.yaml'), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    });
  }

  it('the commented-out prepare block of the example, uncommented, is valid and sets every prepare key', () => {
    const text = readFileSync(new URL('../../config/pairkeeper.example.yaml', import.meta.url), 'utf8');
    const lines = text.split('\n');
    const start = lines.findIndex((l) => l === '    # prepare:');
    assert.ok(start > 0, 'the example has a prepare block');
    let end = start + 1;
    while (lines[end]?.startsWith('    #   ')) end++;
    const block = lines.slice(start, end).map((l) => l.replace('    # ', '    '));
    const yaml = `${MINIMAL}groups:\n  - name: etcd\n${block.join('\n')}\n`;
    const prepare = parseConfig(yaml, 'example prepare').groups[0]!.prepare!;
    assert.equal(prepare.mountPoint, '/var/lib/etcd');
    assert.deepEqual(Object.keys(prepare).sort(), ['afterCommand', 'agentTimeoutSeconds', 'document', 'fsLabel', 'fsType', 'mountOptions', 'mountPoint', 'timeoutSeconds']);
  });

  it('PAIRKEEPER_LISTEN_PORT and PAIRKEEPER_ADMIN_PORT override the file', () => {
    const config = parseConfig(`${MINIMAL}listen: { port: 1 }\n`, 't', { PAIRKEEPER_LISTEN_PORT: '9000', PAIRKEEPER_ADMIN_PORT: '9001' });
    assert.equal(config.listen.port, 9000);
    assert.equal(config.admin.port, 9001);
  });

  it('refuses an override that is not a port, naming the variable', () => {
    assert.throws(() => parseConfig(MINIMAL, 't', { PAIRKEEPER_ADMIN_PORT: 'eighty' }), /PAIRKEEPER_ADMIN_PORT: expected a port number/);
    assert.throws(() => parseConfig(MINIMAL, 't', { PAIRKEEPER_LISTEN_PORT: '99999' }), /listen\.port:/);
  });

  it('a queue fed raw or by EventBridge needs no topic: sns may be left out', () => {
    const queueOnly = 'aws: { region: eu-west-1 }\nintake: { sqs: { queueUrl: https://sqs.eu-west-1.amazonaws.com/123456789012/pairkeeper } }\n';
    const config = parseConfig(queueOnly, 'test');
    assert.deepEqual(config.sns.topicArns, []);
    assert.equal(config.sns.maxMessageAgeSeconds, 3600, 'the rest of sns keeps its defaults (SNS envelopes in the queue are checked with them)');
  });

  it('replicas: PAIRKEEPER_REPLICA_INDEX sets the index; the index must be below the count, and several replicas need the ssm store', () => {
    const ssm = `${MINIMAL}claims: { store: ssm }\nreplicas: { count: 3 }\n`;
    assert.equal(parseConfig(ssm, 't', { PAIRKEEPER_REPLICA_INDEX: '2' }).replicas.index, 2);
    assert.throws(() => parseConfig(ssm, 't', { PAIRKEEPER_REPLICA_INDEX: 'two' }), /PAIRKEEPER_REPLICA_INDEX: expected this replica's index/);
    assert.throws(() => parseConfig(ssm, 't', { PAIRKEEPER_REPLICA_INDEX: '3' }), /replicas\.index: must be below replicas\.count/);
    assert.throws(() => parseConfig(`${MINIMAL}replicas: { count: 2, index: 1 }\n`, 't'), /replicas\.count: several replicas need a shared claim store/);
    assert.deepEqual(parseConfig(MINIMAL, 't').replicas, { count: 1, index: 0, takeoverSeconds: 60 });
  });
});
