import { type Command, Option } from 'commander';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';

/** Notices, trusted flaggers and appeals, for operators. */
export function legalCommands(program: Command): void {
  const notices = program.command('notices').description('DSA notices of illegal content (Art. 16)');
  notices
    .command('list')
    .description('notices, oldest first')
    .option('--unresolved', 'only those waiting for the platform to name their subject')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 100)
    .action(async (options: { unresolved?: boolean; limit: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const list = await bulwark.notices.list({ unresolved: options.unresolved, limit: options.limit });
        if (json) return printJson(list);
        process.stdout.write(
          table(list.map((n) => ({ id: n.id, category: n.category, channel: n.channel, trusted_flagger: n.trusted_flagger ?? '', subject: n.subject ? `${n.subject.kind}:${n.subject.id}` : '(unresolved)', case: n.case_id ?? '', decision: n.decision?.verdict ?? '', received_at: n.received_at }))),
        );
      }),
    );

  const flaggers = program.command('trusted-flagger').description('trusted flaggers (DSA Art. 22), whose notices are decided first');
  flaggers
    .command('add')
    .argument('<name>')
    .requiredOption('--awarded-by <coordinator>', 'the Digital Services Coordinator that awarded the status')
    .option('--reference <text>', "where the award is recorded")
    .action(async (name: string, options: { awardedBy: string; reference?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const flagger = await bulwark.trustedFlaggers.register({ name, awardedBy: options.awardedBy, reference: options.reference }, 'cli');
        if (json) printJson({ name: flagger.name, awarded_by: flagger.awardedBy });
        else process.stdout.write(`registered trusted flagger ${flagger.name}\n`);
      }),
    );
  flaggers.command('list').action(async (_options: object, command: Command) =>
    withBulwark(command, async (bulwark, { json }) => {
      const rows = (await bulwark.trustedFlaggers.list()).map((f) => ({ name: f.name, awarded_by: f.awardedBy, reference: f.reference ?? '', revoked_at: f.revokedAt?.toISOString() ?? '' }));
      if (json) printJson(rows);
      else process.stdout.write(table(rows));
    }),
  );
  flaggers
    .command('revoke')
    .argument('<name>')
    .action(async (name: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        await bulwark.trustedFlaggers.revoke(name, 'cli');
        if (json) printJson({ revoked: name });
        else process.stdout.write(`revoked trusted flagger ${name}\n`);
      }),
    );

  program
    .command('appeals')
    .description('appeals against decisions (DSA Art. 20)')
    .addOption(new Option('--status <status>').choices(['pending', 'upheld', 'reversed']))
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 100)
    .action(async (options: { status?: 'pending' | 'upheld' | 'reversed'; limit: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const list = await bulwark.appeals.list({ status: options.status, limit: options.limit });
        if (json) return printJson(list);
        process.stdout.write(table(list.map((a) => ({ id: a.id, decision: a.decision_id, appellant: a.appellant_id, status: a.status, review_case: a.review_case_id ?? '', received_at: a.received_at, resolved_by: a.resolved_by ?? '' }))));
      }),
    );
}
