import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { renderAuditCsv } from '../../audit/audit-report-csv.ts';
import { renderAuditHtml } from '../../audit/audit-report-html.ts';
import { auditRecommendations, type RecommendationAuditReport } from '../../audit/recommendation-audit.ts';
import { invalid } from '../../errors.ts';
import { assertStorable, assertTimestamp } from '../../validation/edge.ts';
import { ACCOUNT_LABELS, type AccountLabel } from '../../graph/accounts.ts';
import { DETECTION_DEFAULTS } from '../../graph/detection-defaults.ts';
import { applyLabelFile } from '../../graph/label-file.ts';
import { importEventLines } from '../../ingest/event-import.ts';
import type { TermInput } from '../../terms/term-lists.ts';
import type { TermAction } from '../../terms/term-matcher.ts';
import { describeCalibration } from '../../graph/risk-calibration.ts';
import { accountJson } from '../../http/routes/accounts.ts';
import { networkJson } from '../../http/routes/network.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';
import { progress } from '../progress.ts';

/**
 * A term file is JSON lines ({"id", "term", "mode"}) or plain text with one term a line
 * ('#' starts a comment); plain-text terms get a stable id from their own hash, so
 * reloading a list keeps the ids that earlier signals refer to.
 */
export function parseTermFile(text: string): TermInput[] {
  const terms: TermInput[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    assertStorable(line, `line ${index + 1}`);
    if (line.startsWith('{')) {
      let parsed: { id?: unknown; term?: unknown; mode?: unknown };
      try {
        parsed = JSON.parse(line);
      } catch {
        throw invalid(`line ${index + 1}: not valid JSON`);
      }
      assertStorable(parsed, `line ${index + 1}`);
      if (typeof parsed.term !== 'string' || parsed.term.trim() === '') throw invalid(`line ${index + 1}: "term" must be a non-empty string`);
      if (parsed.mode !== undefined && parsed.mode !== 'word' && parsed.mode !== 'substring') throw invalid(`line ${index + 1}: "mode" is word or substring`);
      const id = typeof parsed.id === 'string' && parsed.id ? parsed.id : createHash('sha256').update(parsed.term).digest('hex').slice(0, 12);
      terms.push({ id, term: parsed.term, ...(parsed.mode ? { mode: parsed.mode as 'word' | 'substring' } : {}) });
    } else {
      terms.push({ id: createHash('sha256').update(line).digest('hex').slice(0, 12), term: line });
    }
  });
  return terms;
}

/** One line on what the audit cannot see: the estimate at measured recall, or that recall is unknown. */
function estimateLine(report: RecommendationAuditReport): string {
  const estimate = report.estimated;
  if (!estimate) return 'detection recall is unknown (the latest run measured none), so nothing is estimated about accounts not found';
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const pairs = estimate.suspectToSuspectImpressions;
  return (
    `at the recall run ${estimate.recall.runId} measured (${pct(estimate.recall.estimate)}, ${pct(estimate.recall.low)}-${pct(estimate.recall.high)}) ` +
    `there are about ${estimate.networkAccounts.estimate} (${estimate.networkAccounts.low}-${estimate.networkAccounts.high}) network accounts` +
    (pairs.estimatedReduction ? `, and the guardrail removes about ${pct(pairs.estimatedReduction.estimate)} of network accounts shown to each other` : '')
  );
}

export function networkCommands(program: Command): void {
  const events = program.command('events').description('platform events: the account graph’s input');
  events
    .command('import')
    .description('import platform events from a JSON-lines file (checked whole first; nothing is applied if a line is bad)')
    .argument('<file>')
    .option('--batch-size <n>', 'events per transaction', (v) => Number.parseInt(v, 10), 5000)
    .action(async (file: string, options: { batchSize: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (!(await stat(file).catch(() => undefined))?.isFile()) throw invalid(`no such file: ${file}`);
        let bar: ReturnType<typeof progress> | undefined;
        let phase = '';
        const started = performance.now();
        const result = await importEventLines(bulwark.platformEvents, () => createReadStream(file), {
          batchSize: options.batchSize,
          onProgress: (current, lines) => {
            if (current !== phase) {
              bar?.stop();
              phase = current;
              bar = progress(current === 'checking' ? 'checking' : 'importing', undefined, 'lines');
            }
            bar?.update(lines);
          },
        });
        bar?.stop();
        const seconds = (performance.now() - started) / 1000;
        if (!process.stderr.isTTY) process.stderr.write(`imported ${result.applied} of ${result.lines} lines in ${seconds.toFixed(1)} s\n`);
        if (json) return printJson({ ...result, seconds: Math.round(seconds * 10) / 10, eventsPerSecond: seconds > 0 ? Math.round(result.received / seconds) : null });
        process.stdout.write(
          `imported ${result.applied} events from ${result.lines} lines in ${result.batches} batches` +
            `${result.duplicates ? `, ${result.duplicates} duplicates skipped` : ''}${result.ignored.length ? `, ${result.ignored.length} ignored` : ''}` +
            `${result.termMatches ? `, ${result.termMatches} term matches` : ''}\n`,
        );
      }),
    );

  const terms = program.command('terms').description('operator term lists for search guardrails and term signals');
  terms
    .command('load')
    .description('create or replace a term list from a file (JSON lines or one term a line)')
    .argument('<name>', 'list name')
    .argument('<file>')
    .requiredOption('--action <action>', 'block, interstitial or signal')
    .action(async (name: string, file: string, options: { action: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (!['block', 'interstitial', 'signal'].includes(options.action)) throw invalid('--action is block, interstitial or signal');
        const text = await readFile(file, 'utf8').catch(() => {
          throw invalid(`cannot read ${file}`);
        });
        const list = await bulwark.terms.replace(name, options.action as TermAction, parseTermFile(text));
        if (json) printJson({ name: list.name, action: list.action, term_count: list.termCount, revision: list.revision });
        else process.stdout.write(`term list ${list.name}: ${list.termCount} terms, action ${list.action}\n`);
      }),
    );
  terms
    .command('list')
    .description('list term lists (names and sizes, not their terms)')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const lists = await bulwark.terms.list();
        if (json) return printJson(lists.map((l) => ({ name: l.name, action: l.action, term_count: l.termCount, revision: l.revision })));
        process.stdout.write(table(lists.map((l) => ({ name: l.name, action: l.action, terms: l.termCount, revision: l.revision }))));
      }),
    );

  const account = program.command('account').description('accounts as Bulwark knows them');
  account
    .command('show')
    .argument('<id>')
    .description('attributes, label, network and risk of an account')
    .action(async (id: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const view = accountJson(await bulwark.accounts.get(id));
        if (json) return printJson(view);
        for (const [key, value] of Object.entries(view)) process.stdout.write(`${key.padEnd(16)} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}\n`);
      }),
    );
  account
    .command('label')
    .argument('[id]')
    .argument('[label]', ACCOUNT_LABELS.join(', '))
    .option('--note <text>', 'why')
    .option('--file <file>', 'label many accounts from a file: CSV (account,label,note) or JSON lines ({"account","label","note"}); bad lines are reported by number, good ones applied')
    .description('label an account, or many from a file (seeds network detection; cleared overrides older findings)')
    .action(async (id: string | undefined, label: string | undefined, options: { note?: string; file?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (options.file !== undefined) {
          if (id !== undefined || options.note !== undefined) throw invalid('--file takes its accounts, labels and notes from the file: give no id, label or --note');
          if (!(await stat(options.file).catch(() => undefined))?.isFile()) throw invalid(`no such file: ${options.file}`);
          const bar = progress('labelling', undefined, 'lines');
          const result = await applyLabelFile(bulwark.accounts, createReadStream(options.file), 'operator', (line) => bar.update(line));
          bar.stop();
          if (result.bad > 0) process.exitCode = 2;
          if (json) return printJson({ applied: result.applied, bad_lines: result.bad, problems: result.problems });
          process.stdout.write(`labelled ${result.applied} accounts${result.bad ? `; ${result.bad} bad lines not applied:` : ''}\n`);
          for (const p of result.problems) process.stdout.write(`  line ${p.line}: ${p.message}\n`);
          return;
        }
        if (id === undefined || label === undefined) throw invalid('give an account id and a label, or --file');
        if (!ACCOUNT_LABELS.includes(label as AccountLabel)) throw invalid(`label is one of ${ACCOUNT_LABELS.join(', ')}`);
        await bulwark.accounts.label(id, label as AccountLabel, 'operator', options.note ? { note: options.note } : {});
        if (json) printJson(accountJson(await bulwark.accounts.get(id)));
        else process.stdout.write(`labelled ${id} ${label}\n`);
      }),
    );

  const network = program.command('network').description('network detection: seed expansion, networks, ban evasion');
  network
    .command('detect')
    .description('run detection over the stored graph and keep what it finds')
    .option('--seed <id...>', 'extra seed accounts for this run, besides labelled ones')
    .option('--lead-limit <n>', 'leads to keep', (v) => Number.parseInt(v, 10), DETECTION_DEFAULTS.leadLimit)
    .option('--resolution <x>', 'least internal edge weight per member pair of a network (CPM)', Number.parseFloat, DETECTION_DEFAULTS.resolution)
    .option('--min-network-size <n>', 'smallest network reported', (v) => Number.parseInt(v, 10), DETECTION_DEFAULTS.minNetworkSize)
    .action(async (options: { seed?: string[]; leadLimit: number; resolution: number; minNetworkSize: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        let bar: ReturnType<typeof progress> | undefined;
        let stage = '';
        // Defaults are shown in --help; only what the operator gave is passed, so the detector's own defaults rule.
        const given = <T>(name: string, value: T) => (command.getOptionValueSource(name) === 'default' ? undefined : value);
        const summary = await bulwark.detection.run({
          seeds: options.seed,
          leadLimit: given('leadLimit', options.leadLimit),
          resolution: given('resolution', options.resolution),
          minNetworkSize: given('minNetworkSize', options.minNetworkSize),
          onProgress: (current, rows) => {
            if (current !== stage) {
              bar?.stop();
              stage = current;
              bar = progress(`loading ${current}`, undefined, 'rows');
            }
            bar?.update(rows);
          },
        });
        bar?.stop();
        if (json) return printJson(summary);
        const t = summary.timings;
        process.stdout.write(
          `run ${summary.runId}: ${summary.accounts} accounts, ${summary.interactions} interactions, ${summary.features} features, ${summary.seeds} seeds\n` +
            `${summary.leads} leads, ${summary.networks.length} networks, ${summary.evasions} likely ban evasions\n` +
            `load ${(t.loadMs / 1000).toFixed(1)} s, analysis ${(t.analysisMs / 1000).toFixed(2)} s (PageRank ${t.pageRankMs.toFixed(0)} ms, communities ${t.communitiesMs.toFixed(0)} ms, evasion ${t.evasionMs.toFixed(0)} ms), save ${(t.saveMs / 1000).toFixed(1)} s\n`,
        );
        process.stdout.write(`${describeCalibration(summary.calibration)}\n`);
        for (const found of summary.networks) process.stdout.write(`  network ${found.id}: ${found.text}\n`);
      }),
    );
  network
    .command('leads')
    .description('ranked leads of the latest run, with reasons')
    .option('--run <id>', 'run id', (v) => Number.parseInt(v, 10))
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(async (options: { run?: number; limit: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const { runId, calibration, leads } = await bulwark.detection.leads({ runId: options.run, limit: options.limit });
        if (json) return printJson({ run_id: runId, calibration, leads });
        process.stdout.write(`${describeCalibration(calibration)}\n`);
        process.stdout.write(table(leads.map((lead) => ({ rank: lead.rank, account: lead.account, risk: lead.risk === null ? '-' : lead.risk.toFixed(3), why: lead.reasons.map((r) => r.text).join('; ') }))));
      }),
    );
  network
    .command('list')
    .description('networks of the latest run')
    .option('--run <id>', 'run id', (v) => Number.parseInt(v, 10))
    .action(async (options: { run?: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const networks = await bulwark.detection.networks({ runId: options.run });
        if (json) return printJson(networks.map(networkJson));
        process.stdout.write(table(networks.map((n) => ({ id: n.id, size: n.summary.size, sellers: n.summary.sellers, buyers: n.summary.buyers, summary: n.summary.text }))));
      }),
    );
  network
    .command('show')
    .argument('<id>', 'network id')
    .description('one network with its members and roles')
    .action(async (id: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const found = await bulwark.detection.network(Number.parseInt(id, 10));
        if (json) return printJson(networkJson(found));
        process.stdout.write(`network ${found.id} (run ${found.runId}, ${found.status}): ${found.summary.text}\n`);
        process.stdout.write(table(found.members.map((m) => ({ account: m.account, role: m.role, score: m.score.toExponential(2) }))));
      }),
    );
  network
    .command('evasions')
    .description('likely returns of removed accounts in the latest run, with evidence')
    .option('--run <id>', 'run id', (v) => Number.parseInt(v, 10))
    .action(async (options: { run?: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const links = await bulwark.detection.evasions({ runId: options.run });
        if (json) return printJson(links);
        process.stdout.write(
          table(links.map((l) => ({ account: l.account, removed: l.removedAccount, score: l.score.toFixed(2), evidence: l.evidence.map((e) => e.identifier ?? `${e.kind} ${e.common}`).join(', ') }))),
        );
      }),
    );

  const audit = program.command('audit').description('audits for risk assessments');
  audit
    .command('recommendations')
    .description('how often the recommender linked suspects to each other and to minors, before and after the guardrail')
    .option('--from <time>', 'ISO 8601 start of the period')
    .option('--to <time>', 'ISO 8601 end of the period')
    .option('--html <file>', 'write the report as HTML with charts')
    .option('--csv <file>', 'write the figures as CSV, under human labels')
    .option('--out <file>', 'write the report as JSON')
    .action(async (options: { from?: string; to?: string; html?: string; csv?: string; out?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const when = (value: string | undefined, name: string) => {
          if (value === undefined) return undefined;
          const date = new Date(value);
          if (Number.isNaN(date.getTime()) || !/[zZ]|[+-]\d\d:?\d\d$/.test(value)) throw invalid(`--${name} must be ISO 8601 with a time zone`);
          return assertTimestamp(date, `--${name}`);
        };
        const bar = progress('auditing', undefined, 'impressions');
        const report = await auditRecommendations(bulwark.sql, bulwark.guardrail, { from: when(options.from, 'from'), to: when(options.to, 'to'), onProgress: (n) => bar.update(n) });
        bar.stop();
        if (options.html) await writeFile(options.html, renderAuditHtml(report));
        if (options.csv) await writeFile(options.csv, renderAuditCsv(report));
        if (options.out) await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
        if (json) return printJson(report);
        const b = report.before;
        const a = report.after;
        const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
        process.stdout.write(
          `${b.impressions} impressions; suspect viewers shown suspects: ${pct(b.suspectToSuspectShare)} -> ${pct(a.suspectToSuspectShare)}` +
            `${b.suspectToSuspectLift === null ? '' : ` (lift ${b.suspectToSuspectLift.toFixed(1)}x)`}\n` +
            `ordinary viewers exposed: ${pct(b.ordinaryExposureShare)} -> ${pct(a.ordinaryExposureShare)}; minors exposed: ${pct(b.minorExposureShare)} -> ${pct(a.minorExposureShare)}\n` +
            `follows between suspects from recommendations: ${report.follows.fromRecommendations} of ${report.follows.betweenSuspects}\n` +
            `these count only the ${report.known.flaggedAccounts} accounts flagged now; ${estimateLine(report)}\n` +
            `${options.html ? `HTML report: ${options.html}\n` : ''}`,
        );
      }),
    );
}
