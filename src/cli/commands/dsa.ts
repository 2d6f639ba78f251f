import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { invalid } from '../../errors.ts';
import { STATEMENT_STATUSES, type StatementStatus } from '../../reporting/dsa/statement-service.ts';
import { parseBound } from '../../reporting/dsa/transparency-report.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';


export function dsaCommands(program: Command): void {
  const dsa = program.command('dsa').description('DSA statements of reasons (Art. 17) and transparency reports (Art. 15/24)');
  dsa
    .command('statements')
    .description('list statements of reasons (recording any for decisions not yet seen)')
    .option('--status <status>', `one of ${STATEMENT_STATUSES.join(', ')}`)
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 100)
    .action(async (options: { status?: string; limit: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (options.status && !STATEMENT_STATUSES.includes(options.status as StatementStatus)) throw invalid(`--status is one of ${STATEMENT_STATUSES.join(', ')}`);
        const service = bulwark.dsa;
        await service.consumer.drain();
        const list = await service.list({ status: options.status as StatementStatus | undefined, limit: options.limit });
        if (json) return printJson({ statements: list });
        process.stdout.write(
          table(list.map((s) => ({ id: s.id, decision: s.decision_id, subject: `${s.subject.kind}:${s.subject.id}`, puid: s.puid, status: s.status, reversed: s.reversal ? `appeal ${s.reversal.appeal_id}` : '', problem: s.last_error ?? (s.errors ? Object.keys(s.errors).join(' ') : '') }))),
        );
      }),
    );
  dsa
    .command('submit')
    .description('submit due statements to the Transparency Database (BULWARK_DSA_TDB_URL, BULWARK_DSA_TDB_TOKEN)')
    .action(async (_options: unknown, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const service = bulwark.dsa;
        if (!service.configured) throw invalid('set BULWARK_DSA_TDB_URL and BULWARK_DSA_TDB_TOKEN to submit statements');
        await service.consumer.drain();
        const accepted = await service.submitDue();
        if (json) return printJson({ accepted });
        process.stdout.write(`${accepted} statement(s) accepted\n`);
      }),
    );
  dsa
    .command('transparency-report')
    .description('figures for [from, to) as JSON, CSV, HTML, and the Commission\'s template files')
    .requiredOption('--from <iso>', 'start, ISO 8601 with an offset')
    .requiredOption('--to <iso>', 'end (exclusive), ISO 8601 with an offset')
    .option('--csv <file>', 'write the CSV here')
    .option('--html <file>', 'write the HTML report here')
    .option('--template-dir <dir>', 'write the Annex I template\'s CSV parts (1, 3-10) here, under the Commission\'s file names')
    .action(async (options: { from: string; to: string; csv?: string; html?: string; templateDir?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const report = await bulwark.dsa.transparencyReport({ from: parseBound(options.from, 'from'), to: parseBound(options.to, 'to') });
        if (options.csv) await writeFile(options.csv, report.csv);
        if (options.html) await writeFile(options.html, report.html);
        const written: string[] = [];
        if (options.templateDir) {
          await mkdir(options.templateDir, { recursive: true });
          for (const part of report.template) {
            const path = join(options.templateDir, part.file_name);
            await writeFile(path, part.csv);
            written.push(path);
          }
        }
        if (json || (!options.csv && !options.html && !options.templateDir)) printJson(report.figures);
        // Under --json stdout stays one JSON document, so the list goes to stderr.
        for (const path of written) (json ? process.stderr : process.stdout).write(`wrote ${path}\n`);
      }),
    );
}
