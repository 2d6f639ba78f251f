import type { Command } from 'commander';
import { Option } from 'commander';
import type { Bulwark } from '../../app.ts';
import { BulwarkError, invalid } from '../../errors.ts';
import { parseBound } from '../../reporting/dsa/transparency-report.ts';
import { ncmecConfigFromEnv } from '../../reporting/ncmec/config.ts';
import { NCMEC_REPORT_STATUSES, type NcmecAttemptReport, NcmecReportService, type NcmecReportStatus, type NcmecReportView } from '../../reporting/ncmec/report-service.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';

/** The service from BULWARK_NCMEC_* and BULWARK_MEDIA_KEY (secrets come only from the environment). */
function reportService(bulwark: Bulwark, onAttempt?: (attempt: NcmecAttemptReport) => void): NcmecReportService {
  return new NcmecReportService(bulwark.sql, bulwark.audit, bulwark.events, {
    config: ncmecConfigFromEnv(),
    mediaKey: process.env.BULWARK_MEDIA_KEY,
    onAttempt,
    onError: (error) => process.stderr.write(`ncmec: ${error instanceof Error ? error.message : String(error)}\n`),
  });
}

const row = (r: NcmecReportView) => ({
  id: r.id,
  case: r.case_id,
  account: r.account_id ?? '',
  status: r.status,
  completeness: r.quality.score ?? '',
  ncmec_id: r.ncmec_report_id ?? '',
  attempts: r.attempts,
  next_attempt: r.next_attempt_at ?? '',
  last_error: r.last_error ?? '',
});

export function ncmecCommands(program: Command): void {
  const ncmec = program.command('ncmec').description('CyberTipline reports to NCMEC: build from a decided case, deliver, follow');

  ncmec
    .command('report')
    .description('build a report from a decided case and queue it (an invalid one is recorded with its reasons, never sent)')
    .argument('<case-id>', 'case id', (v) => Number.parseInt(v, 10))
    .option('--draft', 'keep it as a draft; `ncmec retry` queues it')
    .action(async (caseId: number, options: { draft?: boolean }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (!Number.isInteger(caseId) || caseId <= 0) throw invalid('the case id is a positive integer');
        const { report, created, reports } = await reportService(bulwark).createFromCase(caseId, `cli:${process.env.USER ?? 'unknown'}`, { draft: options.draft });
        if (json) return printJson({ ...report, created, reports });
        for (const one of reports) {
          process.stdout.write(`NCMEC report ${one.id} about account ${one.account_id ?? '-'} (cases ${one.case_ids.join(', ')}): ${one.status}, completeness ${one.quality.score ?? '-'}\n`);
          for (const error of one.validation_errors) process.stdout.write(`  invalid: ${error}\n`);
          if (one.needs_confirmation) process.stdout.write(`  below the quality floor ${one.quality.floor}: a lead confirms it with \`bulwark ncmec confirm ${one.id} --lead NAME\`, or it is sent at ${one.hold_until}\n`);
        }
        if (!created) process.stdout.write('no new report: the case joined or was already in the report(s) above\n');
        if (reports.some((one) => one.status === 'queued')) process.stdout.write('deliver it with `bulwark ncmec submit` (or a running server)\n');
      }),
    );

  ncmec
    .command('list')
    .description('reports, oldest first')
    .addOption(new Option('--status <status>').choices([...NCMEC_REPORT_STATUSES]))
    .option('--case <id>', 'only this case', (v) => Number.parseInt(v, 10))
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 100)
    .action(async (options: { status?: NcmecReportStatus; case?: number; limit: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const reports = await reportService(bulwark).list({ status: options.status, caseId: options.case, limit: options.limit });
        if (json) printJson(reports);
        else process.stdout.write(table(reports.map(row)));
      }),
    );

  ncmec
    .command('show')
    .description('one report: status, NCMEC id, attempts, files')
    .argument('<id>', 'report id', (v) => Number.parseInt(v, 10))
    .option('--xml', 'print the <report> document as built and sent')
    .action(async (id: number, options: { xml?: boolean }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const report = await reportService(bulwark).get(id, { includeXml: options.xml });
        if (json) return printJson(report);
        if (options.xml) return void process.stdout.write(report.xml ?? '');
        const lines = [
          `NCMEC report ${report.id} for case ${report.case_id} (decision ${report.decision_id}): ${report.status}`,
          `NCMEC report id: ${report.ncmec_report_id ?? '-'}; attempts: ${report.attempts}; next attempt: ${report.next_attempt_at ?? '-'}`,
          ...(report.last_error ? [`last error: ${report.last_error}`] : []),
          ...(report.retracted_report_ids.length ? [`retracted at NCMEC: ${report.retracted_report_ids.join(', ')}`] : []),
          ...report.validation_errors.map((error) => `invalid: ${error}`),
          `account: ${report.account_id ?? '-'}; cases: ${report.case_ids.join(', ')}`,
          `completeness: ${report.quality.score ?? '-'} (floor ${report.quality.floor})${report.needs_confirmation ? `; held for a lead's confirmation until ${report.hold_until}` : ''}${report.confirmed_by ? `; confirmed by ${report.confirmed_by}` : ''}`,
          ...report.quality.missing.map((gap) => `  missing ${gap.item}: ${gap.detail}`),
          'files:',
          ...report.files.map((f) => `  ${f.file_name}${f.case_id ? ` (case ${f.case_id})` : ''} viewed_by_esp=${f.viewed_by_esp} uploaded_at=${f.uploaded_at}${f.media_held ? '' : ' (not held: hashes only)'}${f.ncmec_file_id ? ` ncmec_file_id=${f.ncmec_file_id}` : ''}`),
        ];
        lines.push('history:', ...report.history.map((h) => `  ${h.at} ${h.event}${h.detail ? ` ${JSON.stringify(h.detail)}` : ''}`));
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );

  ncmec
    .command('confirm')
    .description('a lead confirms a report held below the quality floor: it is sent as it is')
    .argument('<id>', 'report id', (v) => Number.parseInt(v, 10))
    .requiredOption('--lead <username>', 'the lead (or admin) reviewer who confirms')
    .action(async (id: number, options: { lead: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const lead = await bulwark.reviewers.get(options.lead);
        if (lead.disabledAt) throw new BulwarkError('forbidden', `reviewer ${lead.username} is disabled`);
        const report = await reportService(bulwark).confirm(id, { username: lead.username, role: lead.role });
        if (json) printJson(report);
        else process.stdout.write(`NCMEC report ${report.id}: ${report.status} (confirmed by ${report.confirmed_by} at completeness ${report.quality.score})\n`);
      }),
    );

  ncmec
    .command('stats')
    .description('reports sent, median completeness, median time from decision to submission, retractions, for [--from, --to)')
    .option('--from <time>', 'ISO 8601 with an offset (default: 30 days before --to)')
    .option('--to <time>', 'ISO 8601 with an offset (default: now)')
    .action(async (options: { from?: string; to?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const to = options.to ? parseBound(options.to, 'to') : new Date();
        const from = options.from ? parseBound(options.from, 'from') : new Date(to.getTime() - 30 * 86_400_000);
        const figures = await reportService(bulwark).figures(from, to);
        if (json) return printJson(figures);
        process.stdout.write(
          [
            `CyberTipline reports ${figures.period.from} up to ${figures.period.to}`,
            `sent: ${figures.sent}`,
            `median completeness: ${figures.median_completeness ?? 'n/a'}`,
            `median time from decision to submission: ${figures.median_hours_decision_to_submission === null ? 'n/a' : `${figures.median_hours_decision_to_submission} h`}`,
            `sent unconfirmed after the hold limit: ${figures.sent_unconfirmed_after_max_hold}`,
            `retractions: ${figures.retractions}`,
          ].join('\n') + '\n',
        );
      }),
    );

  ncmec
    .command('retry')
    .description('send a report again now (an invalid one is rebuilt from its case with the current configuration)')
    .argument('<id>', 'report id', (v) => Number.parseInt(v, 10))
    .action(async (id: number, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const report = await reportService(bulwark).retry(id, `cli:${process.env.USER ?? 'unknown'}`);
        if (json) printJson(report);
        else process.stdout.write(`NCMEC report ${report.id}: ${report.status}${report.status === 'invalid' ? ` (${report.validation_errors.join('; ')})` : ''}\n`);
      }),
    );

  ncmec
    .command('submit')
    .description('deliver every report that is due (progress on stderr)')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const attempts: NcmecAttemptReport[] = [];
        const service = reportService(bulwark, (attempt) => {
          attempts.push(attempt);
          process.stderr.write(`report ${attempt.reportId} (case ${attempt.caseId}) attempt ${attempt.attempt}: ${attempt.outcome}${attempt.ncmecReportId ? ` ncmec=${attempt.ncmecReportId}` : ''}${attempt.error ? ` (${attempt.error})` : ''}\n`);
        });
        if (!service.canSubmit) throw invalid('set BULWARK_NCMEC_USERNAME and BULWARK_NCMEC_PASSWORD to deliver reports');
        const made = await service.submitDue();
        const submitted = attempts.filter((a) => a.outcome === 'submitted').length;
        if (json) printJson({ attempts: made, submitted, failed: made - submitted });
        else process.stderr.write(`${made} attempt(s): ${submitted} submitted, ${made - submitted} to retry later\n`);
      }),
    );
}
