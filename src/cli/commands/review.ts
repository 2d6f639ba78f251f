import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Command, Option } from 'commander';
import type { CaseStatus } from '../../cases/types.ts';
import { REVIEWER_ROLES, type ReviewerRole } from '../../reviewers/reviewer-service.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

/** Reviewer accounts of the review console. */
export function reviewerCommands(program: Command): void {
  const reviewer = program.command('reviewer').description('manage review-console accounts');

  reviewer
    .command('create')
    .description('create a reviewer; the password comes from BULWARK_REVIEWER_PASSWORD, or one is generated and printed once')
    .argument('<username>')
    .addOption(new Option('--role <role>', 'what the reviewer may do').choices(REVIEWER_ROLES).default('reviewer'))
    .option('--team <team>', 'a team whose restricted queues the reviewer sees (repeatable)', collect, [])
    .action(async (username: string, options: { role: ReviewerRole; team: string[] }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const given = process.env.BULWARK_REVIEWER_PASSWORD;
        const password = given ?? randomBytes(15).toString('base64url');
        const created = await bulwark.reviewers.create({ username, password, role: options.role, teams: options.team }, 'cli');
        const shown = given ? undefined : password;
        if (json) printJson({ username: created.username, role: created.role, teams: created.teams, ...(shown ? { password: shown } : {}) });
        else process.stdout.write(`created ${created.role} ${created.username}${created.teams.length ? ` (teams: ${created.teams.join(', ')})` : ''}\n${shown ? `password: ${shown}\n(shown once; it is stored only as a scrypt hash)\n` : ''}`);
      }),
    );

  reviewer
    .command('list')
    .description('list reviewers')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const rows = (await bulwark.reviewers.list()).map((r) => ({ username: r.username, role: r.role, teams: r.teams.join(','), created_at: r.createdAt.toISOString(), disabled_at: r.disabledAt?.toISOString() ?? '' }));
        if (json) printJson(rows);
        else process.stdout.write(table(rows));
      }),
    );

  reviewer
    .command('disable')
    .description('disable a reviewer and end their sessions')
    .argument('<username>')
    .action(async (username: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        await bulwark.reviewers.disable(username, 'cli');
        if (json) printJson({ disabled: username });
        else process.stdout.write(`disabled ${username}\n`);
      }),
    );
}

/** Cases and queues and the live rule file, for operators (the audit log: audit-log.ts). */
export function caseCommands(program: Command): void {
  const cases = program.command('cases').description('review cases and queues');

  cases
    .command('queues')
    .description('queues with open, claimed and overdue cases and the last day’s decision times')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const queues = await bulwark.cases.queues();
        if (json) printJson(queues);
        else process.stdout.write(table(queues.map((q) => ({ queue: q.name, team: q.team ?? '', sla_minutes: q.sla_minutes, open: q.open, claimed: q.claimed, overdue: q.overdue, decided_24h: q.decided_24h, median_s: q.median_decision_seconds_24h ?? '' }))));
      }),
    );

  cases
    .command('list')
    .description('list cases, oldest first')
    .option('--queue <name>')
    .addOption(new Option('--status <status>').choices(['open', 'claimed', 'decided']))
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 100)
    .action(async (options: { queue?: string; status?: CaseStatus; limit: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const list = await bulwark.cases.list({ queue: options.queue, status: options.status, limit: options.limit });
        if (json) printJson(list);
        else process.stdout.write(table(list.map((c) => ({ id: c.id, queue: c.queue, status: c.status, subject: `${c.subject.kind}:${c.subject.id}`, severity: c.severity, priority: c.priority, due_at: c.due_at ?? '', reason: c.reasons[0]?.rule ?? '' }))));
      }),
    );

  cases
    .command('show')
    .description('one case with its reasons, decisions and actions')
    .argument('<id>', 'case id', (v) => Number.parseInt(v, 10))
    .action(async (id: number, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const detail = await bulwark.cases.detail(id);
        if (json) return printJson(detail);
        const lines = [
          `case ${detail.id} in ${detail.queue}: ${detail.status}, ${detail.severity} (priority ${detail.priority})${detail.trusted_flagger ? ', trusted flagger' : ''}${detail.minor_involved ? ', minor involved' : ''}`,
          `subject: ${detail.subject.kind} ${detail.subject.id}`,
          `due: ${detail.due_at ?? '-'}${detail.claimed_by ? `; held by ${detail.claimed_by} until ${detail.claimed_until}` : ''}`,
          'reasons:',
          ...detail.reasons.map((r) => `  ${r.at} ${r.rule}: ${r.summary}`),
          'decisions:',
          ...(detail.decisions.length ? detail.decisions.map((d) => `  ${d.decided_at} ${d.decided_by} ${d.verdict}${d.policy ? ` under ${d.policy}` : ''}; actions: ${d.actions.map((a) => `${a.type} ${a.target.id} (${a.status})`).join(', ') || 'none'}`) : ['  none']),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}

/** Makes a rule file live (the rules command group's `test` tries one without going live). */
export async function activateRuleFile(command: Command, file: string): Promise<void> {
  await withBulwark(command, async (bulwark, { json }) => {
    const active = await bulwark.rules.activate(await readFile(file, 'utf8'), basename(file), 'cli');
    if (json) printJson({ id: active.id, rules: active.ruleSet.rules.map((rule) => rule.id), queues: active.ruleSet.queues.map((queue) => queue.name) });
    else process.stdout.write(`rule set ${active.id} is live: ${active.ruleSet.rules.length} rules, queues ${active.ruleSet.queues.map((queue) => queue.name).join(', ')}\n`);
  });
}
