import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

// package.json's engines.node is a promise to whoever installs Bulwark: on the oldest Node it
// allows, npm must not warn EBADENGINE about any locked dependency (dev tools included, since
// a developer installs those too).

const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

const root = new URL('../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, LockedPackage> };

describe('the declared Node version', () => {
  it('is one every locked dependency supports', () => {
    const oldest = semver.minVersion(manifest.engines.node)?.version;
    assert.ok(oldest, `engines.node ${manifest.engines.node} has a lowest version`);
    const unsupported = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .flatMap(([path, locked]) => {
        const range = Array.isArray(locked.engines) ? undefined : locked.engines?.node;
        return range && !semver.satisfies(oldest, range) ? [`${path.replace(/^.*node_modules\//, '')}@${locked.version} needs node ${range}`] : [];
      });
    assert.deepEqual(unsupported, [], `on Node ${oldest} npm would warn EBADENGINE`);
    assert.equal(lock.packages['']?.engines && !Array.isArray(lock.packages[''].engines) ? lock.packages[''].engines.node : undefined, manifest.engines.node, 'package-lock.json records the same engines');
  });

  it('is not below the Node that runs the tests', () => {
    assert.ok(semver.satisfies(process.versions.node, manifest.engines.node), `Node ${process.versions.node} is outside ${manifest.engines.node}`);
  });
});
