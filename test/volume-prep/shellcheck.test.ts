import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The script pairkeeper runs on instances, linted by shellcheck where it is installed
 * (Debian's shellcheck package). The npm package `shellcheck` is only a wrapper that
 * downloads the binary from GitHub on first use, which fails without that network,
 * so it is not a dependency: without a shellcheck on PATH this test skips.
 */
const SCRIPT = fileURLToPath(new URL('../../src/volume-prep/prepare-volume.sh', import.meta.url));
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

describe('prepare-volume.sh', () => {
  it('passes shellcheck as bash, down to style warnings', { skip: !hasShellcheck && 'shellcheck is not installed (Debian: apt-get install shellcheck)' }, () => {
    const result = spawnSync('shellcheck', ['--shell=bash', '--severity=style', SCRIPT], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
