import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actionJson } from '../../actions/serialize.ts';
import { ACTION_STATUSES } from '../../actions/types.ts';
import type { Bulwark } from '../../app.ts';
import { SEVERITIES } from '../../cases/types.ts';
import { invalid } from '../../errors.ts';
import { reportSchema } from '../../ingest/reports.ts';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const actor = (request: FastifyRequest) => `api-key:${request.apiKey?.name ?? 'unknown'}`;

/**
 * The platform's side of review: it forwards reports, opens and reads cases, manages the rule
 * file and follows enforcement actions. Reviewers decide in the console, not here.
 */
export const reviewRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/reports',
    { schema: { tags: ['review'], summary: 'Forward a report from a user or a trusted flagger; rules on report.received decide what follows', body: reportSchema } },
    async (request, reply) => {
      const report = await bulwark.reports.submit(request.body);
      return reply.code(202).send({ report_id: report.id, received_at: report.receivedAt.toISOString() });
    },
  );

  app.get('/queues', { schema: { tags: ['review'], summary: 'Review queues with their SLA figures' } }, async () => ({ queues: await bulwark.cases.queues() }));

  app.get(
    '/cases',
    {
      schema: {
        tags: ['review'],
        summary: 'Cases, oldest first, paged by after',
        querystring: z.object({
          queue: z.string().max(64).optional(),
          status: z.enum(['open', 'claimed', 'decided']).optional(),
          subject_kind: z.enum(['content', 'account', 'network', 'network_candidate']).optional(),
          subject_id: z.string().max(200).optional(),
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const query = request.query;
      if ((query.subject_kind === undefined) !== (query.subject_id === undefined)) throw invalid('give subject_kind and subject_id together');
      const subject = query.subject_kind && query.subject_id ? { kind: query.subject_kind, id: query.subject_id } : undefined;
      return { cases: await bulwark.cases.list({ queue: query.queue, status: query.status, subject, afterId: query.after, limit: query.limit }) };
    },
  );

  app.get('/cases/:id', { schema: { tags: ['review'], summary: 'A case with its subject, reasons, decisions and their actions', params: idParams } }, async (request) =>
    bulwark.cases.detail(request.params.id),
  );

  app.post(
    '/cases',
    {
      schema: {
        tags: ['review'],
        summary: 'Open a case by hand (or add a reason to the open case of the same subject and queue)',
        body: z.strictObject({
          queue: z.string().min(1).max(64),
          subject: z.strictObject({ kind: z.enum(['content', 'account', 'network', 'network_candidate']), id: z.string().min(1).max(200) }),
          severity: z.enum(SEVERITIES).optional(),
          priority: z.number().int().min(0).max(100).optional(),
          summary: z.string().min(1).max(1000),
          minor_involved: z.boolean().optional(),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const opened = await bulwark.cases.open(
        { queue: body.queue, subject: body.subject, severity: body.severity, priority: body.priority, minorInvolved: body.minor_involved, reason: { rule: actor(request), summary: body.summary } },
        actor(request),
      );
      return reply.code(201).send(opened);
    },
  );

  app.get('/rules', { schema: { tags: ['review'], summary: 'The live rule file' } }, async () => {
    const active = bulwark.rules.current();
    if (!active) return { active: null };
    return {
      active: { id: active.id, file_name: active.fileName, activated_by: active.activatedBy, activated_at: active.activatedAt.toISOString() },
      rules: active.ruleSet.rules.map((rule) => ({ id: rule.id, description: rule.description ?? null, on: rule.on })),
      queues: active.ruleSet.queues.map((queue) => queue.name),
      policies: bulwark.rules.policies(),
    };
  });

  app.put(
    '/rules',
    {
      schema: {
        tags: ['review'],
        summary: 'Validate a rule file and make it live; a file with errors changes nothing (each error with its line)',
        body: z.strictObject({ file_name: z.string().min(1).max(200).default('rules.yaml'), source: z.string().min(1).max(1_000_000) }),
      },
    },
    async (request) => {
      const active = await bulwark.rules.activate(request.body.source, request.body.file_name, actor(request));
      return { id: active.id, rules: active.ruleSet.rules.length, queues: active.ruleSet.queues.map((queue) => queue.name) };
    },
  );

  app.get(
    '/actions',
    {
      schema: {
        tags: ['review'],
        summary: 'Enforcement actions and their delivery state',
        querystring: z.object({
          case: z.coerce.number().int().positive().optional(),
          status: z.enum(ACTION_STATUSES as [string, ...string[]]).optional(),
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
    },
    async (request) => {
      const query = request.query;
      const actions = await bulwark.actions.list({ caseId: query.case, status: query.status as never, afterId: query.after, limit: query.limit });
      return { actions: actions.map((action) => actionJson(action)) };
    },
  );

  app.get('/actions/:id', { schema: { tags: ['review'], summary: 'An action with every attempt and, for a network, each member’s result', params: idParams } }, async (request) =>
    actionJson(await bulwark.actions.get(request.params.id)),
  );

  app.post('/actions/:id/retry', { schema: { tags: ['review'], summary: 'Re-queue a dead action with a fresh attempt budget', params: idParams } }, async (request) =>
    actionJson(await bulwark.actions.retry(request.params.id, actor(request))),
  );

  app.get(
    '/audit',
    { schema: { tags: ['review'], summary: 'The append-only audit log, newest first', querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), before: z.coerce.number().int().positive().optional(), subject: z.string().max(200).optional() }) } },
    async (request) => {
      const entries = await bulwark.audit.list(request.query);
      return { entries: entries.map((entry) => ({ seq: entry.seq, at: entry.at.toISOString(), actor: entry.actor, action: entry.action, subject: entry.subject, detail: entry.detail, hash: entry.hash })) };
    },
  );

  app.get(
    '/audit/verify',
    {
      schema: {
        tags: ['review'],
        summary: 'Recompute the audit log’s chain and compare it with the newest signed checkpoint',
        description:
          'Without `checkpoint`, the newest trusted checkpoint in the configured sinks is used when there is one, so entries cut from the end of the log are found; `checkpoint=none` checks the chain alone. The first entry that fails is named.',
        querystring: z.object({ checkpoint: z.enum(['latest', 'none']).optional() }),
      },
    },
    async (request) => {
      const checkpoints = bulwark.auditCheckpoints;
      const wanted = request.query.checkpoint ?? (checkpoints.sinks.length > 0 ? 'latest' : 'none');
      const loaded = wanted === 'latest' ? await checkpoints.load('latest').catch(() => ({ checkpoints: [], problems: [] })) : { checkpoints: [], problems: [] };
      const report = await bulwark.audit.check({ checkpoints: loaded.checkpoints });
      const newest = report.checkpoints.newest;
      return {
        entries: report.entries,
        intact: report.failure === undefined && loaded.problems.length === 0,
        broken_at: report.failure ? (report.failure.seq ?? -1) : null,
        failure: report.failure ? { seq: report.failure.seq ?? null, position: report.failure.position, reason: report.failure.reason } : null,
        checkpoints: {
          checked: report.checkpoints.checked,
          newest: newest ? { count: newest.count, head_seq: newest.headSeq, at: newest.at, key_id: newest.keyId, source: newest.source } : null,
          refused: loaded.problems,
        },
      };
    },
  );
};
