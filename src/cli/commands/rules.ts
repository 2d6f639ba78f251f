import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { BulwarkError, invalid } from '../../errors.ts';
import { type DomainEvent, OUTBOX_START, type OutboxPosition } from '../../events/event-log.ts';
import { issueText } from '../../rules/facts/common.ts';
import { type FactLookup, type Firing, RuleEngine, type RuleSet, SqlFactLookup, defaultFactProviders, loadRuleFile } from '../../rules/index.ts';
import { globals, withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';
import { progress } from '../progress.ts';
import { activateRuleFile } from './review.ts';

/** Without a store, events have no account or network context: those facts are null. */
const NO_STORE: FactLookup = { account: async () => undefined, network: async () => undefined };

const eventLineSchema = z.object({
  seq: z.number().int().positive().optional(),
  type: z.string().min(1),
  subject: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  occurred_at: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), { error: 'must be an ISO 8601 time' })
    .optional(),
});

const MAX_REPORTED_LINES = 20;

interface RecordedEvent {
  event: DomainEvent;
  /** Line in the events file; absent for events read from the outbox. */
  line?: number;
  hasSeq: boolean;
}

/** Reads a JSON-lines file of domain events, checked whole first: a bad line stops the test before anything is evaluated. */
export function parseEventLines(text: string, file: string): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  const problems: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      problems.push({ line, message: 'not valid JSON' });
      return;
    }
    const parsed = eventLineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push({ line, message: `${issue.path.join('.') || '(event)'}: ${issueText(issue)}` });
      return;
    }
    const { seq, type, subject, payload, occurred_at } = parsed.data;
    events.push({ event: { seq: seq ?? 0, type, subject, payload, occurredAt: occurred_at ? new Date(occurred_at) : new Date() }, line, hasSeq: seq !== undefined });
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED_LINES).map((problem) => `${file}:${problem.line}: ${problem.message}`);
    const message = problems.length === 1 ? shown[0] : `${file} has ${problems.length} bad lines; nothing was evaluated:\n${shown.join('\n')}`;
    throw invalid(message, { file, line: problems[0].line, problems: problems.slice(0, MAX_REPORTED_LINES) });
  }
  return events;
}

interface TestReport {
  eventsRead: number;
  counts: Map<string, number>;
  firings: (Firing & { line?: number })[];
}

async function evaluateAll(engine: RuleEngine, events: AsyncIterable<RecordedEvent> | Iterable<RecordedEvent>, file?: string): Promise<TestReport> {
  const report: TestReport = { eventsRead: 0, counts: new Map(engine.ruleSet.rules.map((rule) => [rule.id, 0])), firings: [] };
  for await (const { event, line, hasSeq } of events) {
    report.eventsRead++;
    let firings: Firing[];
    try {
      firings = await engine.evaluate(event);
    } catch (error) {
      if (error instanceof BulwarkError && line !== undefined) throw new BulwarkError(error.kind, `${file}:${line}: ${error.message}`, { ...error.details, file, line });
      throw error;
    }
    for (const firing of firings) {
      report.counts.set(firing.rule, (report.counts.get(firing.rule) ?? 0) + 1);
      const entry: Firing & { line?: number } = { ...firing };
      // An event from a file without a seq has none: the placeholder 0 is not shown.
      if (!hasSeq) delete entry.eventSeq;
      if (line !== undefined) entry.line = line;
      report.firings.push(entry);
    }
  }
  return report;
}

async function* outboxEvents(read: (after: OutboxPosition) => Promise<DomainEvent[]>): AsyncIterable<RecordedEvent> {
  let after = OUTBOX_START;
  for (;;) {
    const page = await read(after);
    if (page.length === 0) return;
    for (const event of page) yield { event, hasSeq: true };
    after = page[page.length - 1].position!;
  }
}

const subjectText = (subject: { kind: string; id: string }) => `${subject.kind}:${subject.id}`;

function printReport(report: TestReport, ruleSet: RuleSet, source: string): void {
  const out: string[] = [];
  out.push(`${ruleSet.rules.length} rules, ${report.eventsRead} events from ${source}, ${report.firings.length} firings\n\n`);
  out.push(table(ruleSet.rules.map((rule) => ({ rule: rule.id, on: rule.on.join(', '), fired: report.counts.get(rule.id) ?? 0 }))));
  for (const firing of report.firings) {
    const where = firing.eventSeq !== undefined ? `event ${firing.eventSeq}` : firing.line !== undefined ? `line ${firing.line}` : 'event';
    out.push(`\n${where} ${firing.eventType} ${subjectText(firing.subject)}: ${firing.rule}\n`);
    if (firing.case) out.push(`  case     ${firing.case.queue}, ${firing.case.severity}, priority ${firing.case.priority}, on ${subjectText(firing.case.subject)}\n`);
    if (firing.actions.length) out.push(`  actions  ${firing.actions.map((action) => `${action.type} ${subjectText(action.target)}`).join(', ')}\n`);
    for (const skipped of firing.skipped ?? []) out.push(`  skipped  ${skipped.type}: ${skipped.reason}\n`);
    out.push(`  because  ${firing.summary}\n`);
  }
  process.stdout.write(out.join(''));
}

/** Rule files: check one against recorded events before it goes live. */
export function rulesCommands(program: Command): void {
  const rules = program.command('rules').description('rule files: which signals open review cases and fire enforcement actions');
  rules
    .command('test')
    .description('evaluate a rule file against recorded events (a JSON-lines file, or the store’s outbox) and print what would fire')
    .argument('<file>', 'rule file, YAML or JSON')
    .option('--events <file>', 'JSON lines of domain events {seq?, type, subject, payload, occurred_at?}; account and network facts then come from the store only if one is given')
    .action(async (file: string, options: { events?: string }, command: Command) => {
      const { json, databaseUrl } = globals(command);
      // The rule file is checked before any store is opened: its errors are what the operator needs first.
      const providers = defaultFactProviders();
      const ruleSet = await loadRuleFile(file, providers);
      const output = (report: TestReport, source: string) => {
        if (!json) return printReport(report, ruleSet, source);
        printJson({
          rules: ruleSet.rules.map((rule) => ({ id: rule.id, fired: report.counts.get(rule.id) ?? 0 })),
          events_read: report.eventsRead,
          firings: report.firings,
        });
      };

      if (options.events) {
        const eventsFile = options.events;
        const text = await readFile(eventsFile, 'utf8').catch(() => {
          throw invalid(`cannot read events file ${eventsFile}`, { file: eventsFile });
        });
        const events = parseEventLines(text, eventsFile);
        const storeGiven = databaseUrl !== undefined || command.getOptionValueSourceWithGlobals('dataDir') !== 'default';
        if (!storeGiven) return output(await evaluateAll(new RuleEngine(ruleSet, providers, NO_STORE), events, eventsFile), eventsFile);
        return withBulwark(command, async (bulwark) =>
          output(await evaluateAll(new RuleEngine(ruleSet, providers, new SqlFactLookup(bulwark.sql)), events, eventsFile), `${eventsFile} (context from the store)`),
        );
      }

      return withBulwark(command, async (bulwark) => {
        const engine = new RuleEngine(ruleSet, providers, new SqlFactLookup(bulwark.sql));
        const bar = json ? undefined : progress('evaluating', undefined, 'events');
        let read = 0;
        const report = await evaluateAll(
          engine,
          outboxEvents(async (after) => {
            const page = engine.eventTypes.length ? await bulwark.events.read({ after, limit: 1000, types: engine.eventTypes }) : [];
            read += page.length;
            bar?.update(read);
            return page;
          }),
        );
        bar?.stop();
        output(report, 'the outbox');
      });
    });

  rules
    .command('load')
    .description('validate a rule file and make it live: its queues are created or updated, queues it no longer declares are retired')
    .argument('<file>', 'rule file, YAML or JSON')
    .action(async (file: string, _options: object, command: Command) => activateRuleFile(command, file));

  rules
    .command('show')
    .description('the live rule file: when and by whom it was activated, its rules, queues and policies')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const active = bulwark.rules.current();
        if (json) {
          return printJson(
            active
              ? { id: active.id, file_name: active.fileName, activated_by: active.activatedBy, activated_at: active.activatedAt.toISOString(), rules: active.ruleSet.rules.map((r) => ({ id: r.id, on: r.on })), queues: active.ruleSet.queues.map((q) => q.name), policies: bulwark.rules.policies() }
              : { active: null },
          );
        }
        if (!active) return void process.stdout.write('no rule file is live: load one with `bulwark rules load FILE`\n');
        process.stdout.write(
          `rule set ${active.id} (${active.fileName}), activated by ${active.activatedBy} at ${active.activatedAt.toISOString()}\n` +
            active.ruleSet.rules.map((rule) => `  ${rule.id}  on ${rule.on.join(', ')}${rule.description ? `: ${rule.description}` : ''}\n`).join('') +
            `queues: ${active.ruleSet.queues.map((queue) => queue.name).join(', ')}\npolicies: ${bulwark.rules.policies().map((policy) => policy.id).join(', ')}\n`,
        );
      }),
    );
}
