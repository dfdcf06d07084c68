import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The shell scripts, linted by shellcheck where it is installed (Debian's shellcheck
 * package): the one pairkeeper runs on instances, and the image check. The npm package
 * `shellcheck` is only a wrapper that downloads the binary from GitHub on first use,
 * which fails without that network, so it is not a dependency: without a shellcheck on
 * PATH these tests skip.
 */
const SCRIPTS = ['../../src/volume-prep/prepare-volume.sh', '../../scripts/check-image.sh'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

describe('shell scripts', () => {
  for (const script of SCRIPTS) {
    it(`${script.split('/').slice(-2).join('/')} passes shellcheck as bash, down to style warnings`, { skip: !hasShellcheck && 'shellcheck is not installed (Debian: apt-get install shellcheck)' }, () => {
      const result = spawnSync('shellcheck', ['--shell=bash', '--severity=style', script], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stdout + result.stderr);
    });
  }
});
