import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/** NCMEC's published CyberTipline schema (../shared/ncmec), the one every document is checked against. */
export const NCMEC_XSD = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'ncmec', 'cybertipline-report.xsd');

/**
 * Whether the schema tests can run: they need libxml2's xmllint. In CI they must, so a missing
 * xmllint fails the run there instead of skipping (.ci/run installs it). Elsewhere they are
 * skipped with this reason.
 */
export function xmllintSkipReason(): string | false {
  if (spawnSync('xmllint', ['--version'], { stdio: 'ignore' }).status === 0) return false;
  if (process.env.CI === 'true') throw new Error('xmllint is required in CI (.ci/run installs it: apt-get install -y libxml2-utils)');
  const reason = 'xmllint not installed (apt-get install -y libxml2-utils): CyberTipline schema tests skipped';
  process.stderr.write(`note: ${reason}\n`);
  return reason;
}
