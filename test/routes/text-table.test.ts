import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { sendRows } from '../../src/routes/send-rows.ts';
import { textTable } from '../../src/text-table.ts';

describe('textTable', () => {
  it('aligns columns two spaces apart under upper-case headers, one line per row', () => {
    const rows = [
      { group: 'etcd', nodeId: 'node-1', status: 'free' },
      { group: 'etcd-large', nodeId: 'node-10', status: 'attached' },
    ];
    assert.equal(
      textTable(rows, ['group', 'nodeId', 'status']),
      ['GROUP       NODEID   STATUS', 'etcd        node-1   free', 'etcd-large  node-10  attached', ''].join('\n'),
    );
  });

  it('shows only the columns asked for, in the order asked', () => {
    assert.equal(textTable([{ a: 'x', b: 'y', c: 'z' }], ['c', 'a']), 'C  A\nz  x\n');
  });

  it('writes "-" for undefined, null, empty and missing values', () => {
    const rows = [{ id: 'i-1', holder: undefined, problem: null, reason: '' }];
    assert.equal(textTable(rows, ['id', 'holder', 'problem', 'reason', 'absent']), 'ID   HOLDER  PROBLEM  REASON  ABSENT\ni-1  -       -        -       -\n');
  });

  it('writes numbers and booleans as text, including 0 and false', () => {
    assert.equal(textTable([{ n: 0, ok: false }, { n: 42, ok: true }], ['n', 'ok']), 'N   OK\n0   false\n42  true\n');
  });

  it('writes objects and arrays as JSON', () => {
    const rows = [{ id: 'vol-1', tags: { NodeID: 'node-1' }, ips: ['10.0.0.1', '10.0.0.2'] }];
    assert.equal(
      textTable(rows, ['id', 'tags', 'ips']),
      'ID     TAGS                 IPS\nvol-1  {"NodeID":"node-1"}  ["10.0.0.1","10.0.0.2"]\n',
    );
  });

  it('leaves no trailing spaces, even when the last column is narrow on some rows', () => {
    const rows = [{ a: 'short', b: '' }, { a: 'a much longer value', b: 'x' }, { a: 'y', b: 'a long last cell' }];
    const text = textTable(rows, ['a', 'b']);
    for (const line of text.split('\n')) assert.equal(line, line.trimEnd(), JSON.stringify(line));
    assert.equal(text, 'A                    B\nshort                -\na much longer value  x\ny                    a long last cell\n');
  });

  it('widens a column to its header when the values are shorter', () => {
    assert.equal(textTable([{ availabilityZone: 'a', x: 'b' }], ['availabilityZone', 'x']), 'AVAILABILITYZONE  X\na                 b\n');
  });

  it('writes the header alone when there are no rows', () => {
    assert.equal(textTable([], ['group', 'nodeId']), 'GROUP  NODEID\n');
  });
});

describe('sendRows', () => {
  const rows = [{ group: 'etcd', nodeId: 'node-1', holder: undefined }];
  let app: FastifyInstance;

  before(async () => {
    app = Fastify();
    app.get('/pairs', (request, reply) => sendRows(request, reply, 'pairs', rows, ['group', 'nodeId', 'holder']));
    await app.ready();
  });

  after(() => app.close());

  it('answers JSON under the key by default', async () => {
    const res = await app.inject({ method: 'GET', url: '/pairs' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.deepEqual(res.json(), { pairs: [{ group: 'etcd', nodeId: 'node-1' }] });
  });

  it('answers the text table to Accept: text/plain', async () => {
    const res = await app.inject({ method: 'GET', url: '/pairs', headers: { accept: 'text/plain' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.body, 'GROUP  NODEID  HOLDER\netcd   node-1  -\n');
  });

  it('prefers JSON when the client accepts both', async () => {
    const res = await app.inject({ method: 'GET', url: '/pairs', headers: { accept: 'text/plain, application/json' } });
    assert.deepEqual(res.json(), { pairs: [{ group: 'etcd', nodeId: 'node-1' }] });
  });

  it('answers JSON to Accept: */* (what curl sends)', async () => {
    const res = await app.inject({ method: 'GET', url: '/pairs', headers: { accept: '*/*' } });
    assert.deepEqual(res.json(), { pairs: [{ group: 'etcd', nodeId: 'node-1' }] });
  });
});
