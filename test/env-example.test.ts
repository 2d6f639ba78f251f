import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../src/actions/webhook-target.ts';
import { DEFAULT_FLOOD_LIMIT } from '../src/banks/bank-controls.ts';
import { natsSettingsFromEnv } from '../src/distributed/settings.ts';
import { DEFAULT_PIPELINE_SHARE } from '../src/events/foreground-load.ts';
import { DEFAULT_REMOTE_MAX_BYTES } from '../src/http/remote-media.ts';
import { trustProxyFromEnv } from '../src/http/server.ts';
import { DEFAULT_RETROACTIVE_DAYS } from '../src/match/retroactive/retroactive-matcher.ts';
import { ncmecConfigFromEnv } from '../src/reporting/ncmec/config.ts';
import { DEFAULT_MAX_VIDEO_BYTES, DEFAULT_MAX_VIDEO_SECONDS, DEFAULT_SECONDS_PER_HASH } from '../src/signals/vpdq/options.ts';

// .env.example is the operator's list of every setting. It stays complete only if something
// fails when code starts reading a new BULWARK_* variable, so this test reads the sources.

const root = join(import.meta.dirname, '..');

/** Names in src/ that look like settings but are not read from the environment. */
const NOT_SETTINGS = new Map([
  ['BULWARK_CATEGORY_NAMES', 'a constant in src/reporting/dsa/transparency-template.ts'],
  ['BULWARK_VERSION', 'a constant in src/version.ts'],
  ['BULWARK_URL', "a shell variable the demo's printed commands set (src/cli/demo-tour.ts)"],
  ['BULWARK_KEY', "a shell variable the demo's printed commands set (src/cli/demo-tour.ts)"],
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

interface Mentions {
  /** Whole variable names, e.g. BULWARK_WEBHOOK_SECRET. */
  exact: Set<string>;
  /** Families named by a prefix and a part the operator chooses: `${prefix}${type}` or `PREFIX_<NAME>`. */
  families: Set<string>;
}

/** Every BULWARK_* name in the sources: a whole name, or a family's prefix (before `${` or `<`). */
export function settingsInSources(texts: string[]): Mentions {
  const exact = new Set<string>();
  const families = new Set<string>();
  for (const text of texts) {
    for (const match of text.matchAll(/BULWARK_[A-Z0-9_]*/g)) {
      const name = match[0];
      const next = text[match.index + name.length];
      // `$BULWARK_URL` is a shell variable in a printed command, not a setting Bulwark reads.
      if (text[match.index - 1] === '$') continue;
      if (next === '$' || next === '<') families.add(name);
      // `BULWARK_NCMEC_*` and a list like `BULWARK_AUDIT_CHECKPOINT_FILE, _STORE` in prose name
      // variables that appear in full where they are read.
      else if (next === '*' || name.endsWith('_')) continue;
      else if (!NOT_SETTINGS.has(name)) exact.add(name);
    }
  }
  return { exact, families };
}

/** The settings .env.example lists (`NAME=default` or `# NAME=default`), with their documented defaults. */
function documented(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^#? ?([A-Z][A-Z0-9_<>]*)=(.*)$/.exec(line);
    if (match) settings.set(match[1], match[2]);
  }
  return settings;
}

const example = documented(readFileSync(join(root, '.env.example'), 'utf8'));
const sources = settingsInSources(sourceFiles(join(root, 'src')).map((path) => readFileSync(path, 'utf8')));

describe('.env.example', () => {
  it('finds the settings the sources read, families included', () => {
    // The finder itself: a whole name, a template family, a placeholder family, prose wildcards skipped.
    const found = settingsInSources(['env.BULWARK_ONE_SETTING', 'env[`BULWARK_URL_${type}`]', '`BULWARK_EXCHANGE_<NAME>_USER`', 'BULWARK_NCMEC_* and _STORE']);
    assert.deepEqual([...found.exact], ['BULWARK_ONE_SETTING']);
    assert.deepEqual([...found.families].sort(), ['BULWARK_EXCHANGE_', 'BULWARK_URL_']);
    assert.ok(sources.exact.size > 60, `found ${sources.exact.size} settings in src/`);
  });

  it('lists every BULWARK_* variable read in src/', () => {
    const missing = [...sources.exact].filter((name) => !example.has(name)).sort();
    assert.deepEqual(missing, [], `add these to .env.example with their default and meaning: ${missing.join(', ')}`);
  });

  it('lists every family of variables (BULWARK_WEBHOOK_URL_<TYPE>, BULWARK_EXCHANGE_<NAME>_<PART>) with a placeholder', () => {
    const listed = [...example.keys()].filter((name) => name.includes('<'));
    const missing = [...sources.families].filter((prefix) => !listed.some((name) => name.startsWith(`${prefix}<`))).sort();
    assert.deepEqual(missing, [], `add a placeholder line such as ${missing[0] ?? ''}<PART>= to .env.example`);
  });

  it('lists nothing that src/ no longer reads', () => {
    const stale = [...example.keys()].filter((name) => name.startsWith('BULWARK_') && !name.includes('<') && !sources.exact.has(name));
    assert.deepEqual(stale, []);
  });

  it('gives the defaults the code uses', () => {
    const value = (name: string) => {
      assert.ok(example.has(name), `${name} is listed`);
      return example.get(name)!;
    };
    const documentedEnv = Object.fromEntries([...example].filter(([name, text]) => name.startsWith('BULWARK_') && text !== '' && !name.includes('<')));
    // Readers that fill in their own defaults give the same settings from the listed defaults as from nothing.
    assert.deepEqual(natsSettingsFromEnv('nats://127.0.0.1:4222', documentedEnv), natsSettingsFromEnv('nats://127.0.0.1:4222', {}));
    assert.deepEqual(ncmecConfigFromEnv(documentedEnv), ncmecConfigFromEnv({}));
    assert.deepEqual(trustProxyFromEnv(value('BULWARK_TRUST_PROXY')), trustProxyFromEnv(undefined));
    // The others leave the default to the code that uses the value.
    assert.equal(Number(value('BULWARK_PIPELINE_SHARE')), DEFAULT_PIPELINE_SHARE);
    assert.equal(Number(value('BULWARK_RETROACTIVE_DAYS')), DEFAULT_RETROACTIVE_DAYS);
    assert.equal(Number(value('BULWARK_FLOOD_LIMIT')), DEFAULT_FLOOD_LIMIT);
    assert.equal(Number(value('BULWARK_VIDEO_MAX_BYTES')), DEFAULT_MAX_VIDEO_BYTES);
    assert.equal(Number(value('BULWARK_VIDEO_MAX_SECONDS')), DEFAULT_MAX_VIDEO_SECONDS);
    assert.equal(Number(value('BULWARK_VIDEO_SECONDS_PER_HASH')), DEFAULT_SECONDS_PER_HASH);
    assert.equal(Number(value('BULWARK_HMA_MAX_REMOTE_BYTES')), DEFAULT_REMOTE_MAX_BYTES);
    assert.equal(Number(value('BULWARK_WEBHOOK_TIMEOUT_MS')), DEFAULT_WEBHOOK_TIMEOUT_MS);
  });
});
