import type { Command } from 'commander';
import { ActionService, type ActionServiceOptions } from '../../actions/action-service.ts';
import { actionJson } from '../../actions/serialize.ts';
import { actionTargetsFromConfig, webhookConfigFromEnv } from '../../actions/targets.ts';
import { ACTION_STATUSES, ACTION_TYPES, type ActionStatus, type ActionRecord } from '../../actions/types.ts';
import type { Bulwark } from '../../app.ts';
import { invalid } from '../../errors.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';

const positiveInt = (name: string) => (value: string) => {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw invalid(`${name} is a positive whole number`);
  return Number(value);
};

/**
 * A dispatcher over the command's store that reports each attempt, delivering to the
 * webhooks configured in the environment (BULWARK_WEBHOOK_URL, BULWARK_WEBHOOK_SECRET, …).
 */
function reportingDispatcher(bulwark: Bulwark, options: ActionServiceOptions): { service: ActionService; configured: boolean } {
  const targets = actionTargetsFromConfig(webhookConfigFromEnv());
  const configured = ACTION_TYPES.some((type) => targets.targetFor(type));
  return { service: new ActionService(bulwark.sql, bulwark.events, targets, { ...bulwark.config.actionOptions, ...options }), configured };
}

const when = (date: Date | null) => (date ? date.toISOString().replace('.000Z', 'Z') : '');

const summaryRow = (action: ActionRecord) => ({
  id: action.id,
  type: action.type,
  target: `${action.target.kind}:${action.target.id}`,
  status: action.status,
  attempts: action.attempts,
  ...(action.memberStatus ? { members: Object.entries(action.memberStatus).map(([status, n]) => `${n} ${status}`).join(', ') } : { members: '' }),
  case: action.caseId ?? '',
  next_attempt: when(action.nextAttemptAt),
  last_error: action.lastError ?? '',
});

/** Enforcement actions: list, show, re-queue and deliver what is due. */
export function actionsCommands(program: Command): void {
  const actions = program.command('actions').description('enforcement actions delivered to the platform: list, show, retry, dispatch');

  actions
    .command('list')
    .description('actions, oldest first (a network takedown is one row; its members are in show)')
    .option('--status <status>', ACTION_STATUSES.join(', '))
    .option('--case <id>', 'only actions of this case', positiveInt('--case'))
    .option('--decision <id>', 'only actions of this decision', positiveInt('--decision'))
    .option('--limit <n>', 'at most this many (default 50, at most 500)', positiveInt('--limit'))
    .option('--after <id>', 'only actions with a larger id (paging)', positiveInt('--after'))
    .action(async (options: { status?: string; case?: number; decision?: number; limit?: number; after?: number }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (options.status !== undefined && !ACTION_STATUSES.includes(options.status as ActionStatus)) throw invalid(`--status is one of ${ACTION_STATUSES.join(', ')}`);
        const found = await bulwark.actions.list({
          status: options.status as ActionStatus | undefined,
          caseId: options.case,
          decisionId: options.decision,
          limit: options.limit,
          afterId: options.after,
        });
        if (json) return printJson(found.map((action) => actionJson(action)));
        process.stdout.write(table(found.map(summaryRow)));
      }),
    );

  actions
    .command('show')
    .description('one action with every delivery attempt and, for a network takedown, each member’s result')
    .argument('<id>', 'action id', positiveInt('id'))
    .action(async (id: number, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const action = await bulwark.actions.get(id);
        const memberAttempts = action.children ? await bulwark.actions.memberAttempts(id) : undefined;
        if (json) return printJson(actionJson(action, memberAttempts));
        const view = actionJson(action);
        for (const [key, value] of Object.entries(view)) {
          if (key === 'children' || key === 'attempt_log') continue;
          process.stdout.write(`${key.padEnd(16)} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '')}\n`);
        }
        if (action.attemptLog?.length) {
          process.stdout.write('\nattempts\n');
          process.stdout.write(
            table(action.attemptLog.map((a) => ({ attempt: a.attempt, at: when(a.at), outcome: a.outcome, status_code: a.statusCode ?? '', ms: a.durationMs ?? '', error: a.errorCode ?? '' }))),
          );
        }
        if (action.children) {
          process.stdout.write('\nmembers\n');
          process.stdout.write(
            table(
              action.children.map((child) => ({
                id: child.id,
                account: child.target.id,
                status: child.status,
                attempts: child.attempts,
                last_error: child.lastError ?? '',
                result: child.result === null ? '' : JSON.stringify(child.result).slice(0, 80),
              })),
            ),
          );
        }
      }),
    );

  actions
    .command('retry')
    .description('re-queue a dead action (or a network takedown’s dead members) with a fresh attempt budget')
    .argument('<id>', 'action id', positiveInt('id'))
    .action(async (id: number, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const action = await bulwark.actions.retry(id, `cli:${process.env.USER ?? 'operator'}`);
        if (json) return printJson(actionJson(action));
        process.stdout.write(`re-queued action ${action.id} (${action.type} ${action.target.kind}:${action.target.id}); run \`bulwark actions dispatch\` or let the server deliver it\n`);
      }),
    );

  actions
    .command('dispatch')
    .description('deliver every action that is due, once (webhook from BULWARK_WEBHOOK_URL and BULWARK_WEBHOOK_SECRET)')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const { service, configured } = reportingDispatcher(bulwark, {
          onAttempt: (a) =>
            process.stderr.write(
              `action ${a.actionId} ${a.type} attempt ${a.attempt}: ${a.outcome}${a.statusCode ? ` ${a.statusCode}` : ''}${a.errorCode && !a.statusCode ? ` ${a.errorCode}` : ''}` +
                `${a.status ? ` -> ${a.status}` : ''} (${a.durationMs} ms)\n`,
            ),
        });
        if (!configured) process.stderr.write('bulwark: no webhook configured (BULWARK_WEBHOOK_URL); due actions stay queued\n');
        const attempted = await service.dispatchDue();
        const counts = await service.statusCounts();
        const waiting = (counts.pending ?? 0) + (counts.retrying ?? 0);
        if (json) return printJson({ attempted, waiting, dead: counts.dead ?? 0 });
        process.stdout.write(`${attempted} deliveries attempted; ${waiting} waiting, ${counts.dead ?? 0} dead\n`);
      }),
    );
}
