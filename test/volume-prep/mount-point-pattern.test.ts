import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MOUNT_POINT_PATTERN } from '../../src/config/schema.ts';
import { parseConfig } from '../../src/config/load.ts';

/**
 * One mount-point pattern for the config schema and prepare-volume.sh: the script
 * holds it as a literal (it runs alone on the instance), the schema exports the same
 * string, and both accept and refuse the same paths.
 */
const SCRIPT = fileURLToPath(new URL('../../src/volume-prep/prepare-volume.sh', import.meta.url));

const accepted = ['/var/lib/kafka_data', '/srv/zk-1/data.d', '/data/.hidden', '/mnt/a@b+c:d=e,f', '/x'];
const refused = ['/var/lib/my data', '/var/../etc', '/var/./lib', '/..', '/data\n/etc', '/data;reboot', '/data$(id)', '/data`id`', '/data|x', '/da*ta', 'data', '/', '//data', '/data/"x"'];

/** Whether the script takes `path` as MOUNT_POINT: it checks it before FS_TYPE, so a bad FS_TYPE stops it just after. */
function scriptAccepts(path: string): boolean {
  const result = spawnSync('bash', [SCRIPT], {
    env: { PATH: process.env.PATH, VOLUME_ID: 'vol-0123456789abcdef0', DEVICE: '/dev/sdf', MAY_FORMAT: '1', MOUNT_POINT: path, FS_TYPE: 'none' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 10, result.stderr);
  return /FS_TYPE must be/.test(result.stderr);
}

function schemaAccepts(path: string): boolean {
  const config = {
    aws: { region: 'us-east-1' },
    sns: { topicArns: ['arn:aws:sns:us-east-1:123456789012:etcd'] },
    groups: [{ name: 'etcd', prepare: { mountPoint: path } }],
  };
  try {
    parseConfig(JSON.stringify(config), 'test');
    return true;
  } catch {
    return false;
  }
}

describe('the mount-point pattern', () => {
  it("is the script's PATH_PATTERN, character for character", () => {
    const literal = /^readonly PATH_PATTERN='([^']*)'$/m.exec(readFileSync(SCRIPT, 'utf8'))?.[1];
    assert.equal(literal, MOUNT_POINT_PATTERN);
  });

  for (const path of accepted) {
    it(`accepts ${JSON.stringify(path)} in the config and in the script`, () => {
      assert.equal(schemaAccepts(path), true, 'schema');
      assert.equal(scriptAccepts(path), true, 'script');
    });
  }
  for (const path of refused) {
    it(`refuses ${JSON.stringify(path)} in the config and in the script`, () => {
      assert.equal(schemaAccepts(path), false, 'schema');
      assert.equal(scriptAccepts(path), false, 'script');
    });
  }
});
