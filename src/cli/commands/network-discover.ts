import type { Command } from 'commander';
import { SEVERITIES, type Severity } from '../../cases/types.ts';
import { invalid } from '../../errors.ts';
import { DEFAULT_SIGNAL_WEIGHTS, DISCOVERY_DEFAULTS } from '../../graph/seedless/discovery-options.ts';
import type { CandidateStatus } from '../../graph/seedless/discovery-service.ts';
import { candidateJson } from '../../http/routes/network-candidates.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';
import { progress } from '../progress.ts';

const integer = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw invalid(`--${name} is a whole number of at least 1`);
  return parsed;
};
const positive = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw invalid(`--${name} is a number above 0`);
  return parsed;
};

/** `bulwark network discover` and the commands that read and review its candidates; added to the `network` command. */
export function discoveryCommands(program: Command): void {
  const network = program.commands.find((command) => command.name() === 'network');
  if (!network) throw new Error('the network command must be registered before discovery commands');

  network
    .command('discover')
    .description('find candidate networks no one has confirmed (coded terms, seller-buyer structure, new-account bursts, shared links, hash matches); labels nobody')
    .option('--member-threshold <units>', 'evidence units an account needs to be a member on its own (one coded term used by a few dozen accounts is about 0.6)', positive('member-threshold'), DISCOVERY_DEFAULTS.memberThreshold)
    .option('--min-candidate-size <n>', 'smallest candidate network reported', integer('min-candidate-size'), DISCOVERY_DEFAULTS.minCandidateSize)
    .option('--candidate-limit <n>', 'most candidates kept, best first', integer('candidate-limit'), DISCOVERY_DEFAULTS.candidateLimit)
    .option('--max-feature-accounts <n>', 'features used by more accounts link nothing (default: max(500, 2% of accounts))', integer('max-feature-accounts'))
    .addHelpText(
      'after',
      `\nOther defaults: co-occurrence lift ${DISCOVERY_DEFAULTS.coOccurrenceMinLift}x over ${DISCOVERY_DEFAULTS.coOccurrenceRounds} rounds, sellers with ${DISCOVERY_DEFAULTS.sellerMinAudience}+ followers or messagers (at most min(1000, 5% of accounts)),` +
        ` bursts of ${DISCOVERY_DEFAULTS.burstMinAccounts}+ accounts created within ${DISCOVERY_DEFAULTS.burstWindowMs / 3_600_000} h; signal weights ${JSON.stringify(DEFAULT_SIGNAL_WEIGHTS)}.\n`,
    )
    .action(async (options: { memberThreshold: number; minCandidateSize: number; candidateLimit: number; maxFeatureAccounts?: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        let bar: ReturnType<typeof progress> | undefined;
        let stage = '';
        const summary = await bulwark.discovery.run({
          ...options,
          onProgress: (current, rows) => {
            if (current !== stage) {
              bar?.stop();
              stage = current;
              bar = progress(current === 'discovering' ? 'discovering' : current === 'saving' ? 'saving candidates' : `loading ${current}`, undefined, current === 'saving' ? 'candidates' : 'rows');
            }
            bar?.update(rows);
          },
        });
        bar?.stop();
        if (json) return printJson(summary);
        const t = summary.timings;
        process.stdout.write(
          `discovery run ${summary.runId}: ${summary.accounts} accounts, ${summary.stats.termMatchedAccounts} term-matched, ${summary.stats.suspiciousFeatures} suspicious features, ${summary.stats.sellers} seller-shaped accounts, ${summary.stats.bursts} bursts\n` +
            `${summary.candidates.length} candidate networks (for review, not confirmed)${summary.stats.knownGroups ? `; ${summary.stats.knownGroups} groups left out as already confirmed` : ''}\n` +
            `load ${(t.loadMs / 1000).toFixed(1)} s, analysis ${(t.analysisMs / 1000).toFixed(2)} s, save ${(t.saveMs / 1000).toFixed(1)} s\n`,
        );
        for (const found of summary.candidates) process.stdout.write(`  candidate ${found.id} (score ${found.score.toFixed(1)}): ${found.text}\n`);
      }),
    );

  network
    .command('candidates')
    .description('candidate networks of the latest discovery run, best-evidenced first')
    .option('--run <id>', 'discovery run id', integer('run'))
    .option('--status <status>', 'candidate, suspected or dismissed')
    .option('--limit <n>', 'how many', integer('limit'), 20)
    .action(async (options: { run?: number; status?: string; limit: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (options.status !== undefined && !['candidate', 'suspected', 'dismissed'].includes(options.status)) throw invalid('--status is candidate, suspected or dismissed');
        const { runId, candidates } = await bulwark.discovery.candidates({ runId: options.run, status: options.status as CandidateStatus | undefined, limit: options.limit });
        if (json) return printJson({ run_id: runId, candidates: candidates.map(candidateJson) });
        process.stdout.write(table(candidates.map((c) => ({ id: c.id, status: c.status, score: c.score.toFixed(1), size: c.summary.size, sellers: c.summary.sellers, buyers: c.summary.buyers, summary: c.summary.text }))));
      }),
    );

  network
    .command('candidate')
    .argument('<id>', 'candidate id')
    .description('one candidate network with each member’s evidence; --open-case puts it in a review queue')
    .option('--open-case <queue>', 'open a review case for it in this queue')
    .option('--severity <severity>', `severity of the case: ${SEVERITIES.join(', ')}`)
    .action(async (id: string, options: { openCase?: string; severity?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (options.severity !== undefined && !SEVERITIES.includes(options.severity as Severity)) throw invalid(`--severity is one of ${SEVERITIES.join(', ')}`);
        const candidate = await bulwark.discovery.candidate(integer('id')(id));
        const opened = options.openCase
          ? await bulwark.cases.open(
              {
                queue: options.openCase,
                subject: { kind: 'network_candidate', id: String(candidate.id) },
                severity: options.severity as Severity | undefined,
                networkSize: candidate.members.length,
                minorInvolved: (candidate.summary.minorContacts ?? 0) > 0,
                reason: { rule: 'operator', summary: candidate.summary.text.slice(0, 1000) },
              },
              'operator',
            )
          : undefined;
        if (json) return printJson({ ...candidateJson(candidate), ...(opened ? { case: opened } : {}) });
        process.stdout.write(`candidate ${candidate.id} (run ${candidate.runId}, ${candidate.status}, score ${candidate.score.toFixed(1)}): ${candidate.summary.text}\n`);
        process.stdout.write(table(candidate.summary.features.map((f) => ({ kind: f.kind, value: f.value, origin: f.origin, weight: f.weight, here: f.members, overall: f.accounts }))));
        process.stdout.write(table(candidate.members.map((m) => ({ account: m.account, role: m.role, score: m.score.toFixed(2), evidence: m.evidence.map((e) => e.text).join('; ') }))));
        if (opened) process.stdout.write(`case ${opened.id} in queue ${opened.queue}\n`);
      }),
    );
}
