import { readFile } from 'node:fs/promises';
import { type Document, LineCounter, type Node, isMap, isScalar, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import { invalid } from '../errors.ts';
import { findUnstorable, unstorableAt } from '../validation/edge.ts';
import { defaultFactProviders, type FactProviderRegistry } from './facts/registry.ts';
import { OPERATORS, OPERATOR_NAMES, operatorsFor } from './operators.ts';
import {
  ACTION_DEFAULT_TARGETS,
  ACTION_TYPES,
  type ActionSpec,
  type CaseSpec,
  type Condition,
  type FactSpec,
  type OperandValue,
  type Operator,
  type Policy,
  type QueueConfig,
  type Rule,
  type RuleFileError,
  type RuleSet,
  SEVERITIES,
  SUBJECT_KINDS,
  type SubjectKind,
} from './types.ts';

type Path = (string | number)[];

/** At most this many errors are spelled out in the message; details.errors has them all. */
const MESSAGE_ERROR_LIMIT = 20;

const NAME = /^[a-z0-9-]{1,64}$/;
const quote = (value: unknown) => JSON.stringify(value);
const list = (values: readonly string[]) => values.join(', ');
const isPlainMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// ---- Structure (zod) ---------------------------------------------------------------------

const nameSchema = (what: string) =>
  z.string({ error: `${what} must be a string` }).regex(NAME, { error: (issue) => `${what} ${quote(issue.input)} must be 1-64 lowercase letters, digits or dashes` });

const oneOf = <T extends string>(what: string, values: readonly T[]) =>
  z.enum(values as [T, ...T[]], { error: (issue) => `unknown ${what} ${quote(issue.input)}; expected one of ${list(values)}` });

/** A map with known keys only: a misspelt optional key would otherwise be silently ignored. */
const strictMap = <Shape extends z.ZodRawShape>(what: string, shape: Shape) =>
  z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `in ${what}; expected ${list(Object.keys(shape))}` : `${what} must be a map`),
  });

const queueSchema = strictMap('a queue', {
  name: nameSchema('a queue name'),
  description: z.string({ error: 'description must be a string' }).default(''),
  sla_minutes: z.number({ error: 'sla_minutes must be a number of minutes' }).int({ error: 'sla_minutes must be a whole number' }).positive({ error: 'sla_minutes must be above 0' }),
  team: nameSchema('a team').optional(),
});

const policySchema = strictMap('a policy', {
  id: nameSchema('a policy id'),
  title: z.string({ error: 'title must be a string' }).min(1, { error: 'title must not be empty' }),
  legal_ground: z.string({ error: 'legal_ground must be a string' }).optional(),
  subjects: z.array(oneOf('subject', SUBJECT_KINDS), { error: 'subjects must be a list of subject kinds' }).min(1, { error: 'subjects must name at least one subject kind' }).optional(),
});

const caseSchema = strictMap('a case', {
  queue: z.string({ error: 'queue must be a queue name' }),
  severity: oneOf('severity', SEVERITIES).default('medium'),
  priority: z
    .number({ error: 'priority must be a number from 0 to 100' })
    .int({ error: 'priority must be a whole number from 0 to 100' })
    .min(0, { error: 'priority must be from 0 to 100' })
    .max(100, { error: 'priority must be from 0 to 100' })
    .default(50),
  subject: oneOf('case subject', SUBJECT_KINDS).optional(),
});

// An action is written as its type alone or as { type, target }.
const actionSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { type: value } : value),
  z.strictObject(
    { type: oneOf('action type', ACTION_TYPES), target: oneOf('action target', SUBJECT_KINDS).optional() },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? 'in an action; expected type, target' : 'an action is an action type or { type, target }') },
  ),
);

const onSchema = z.union([z.string(), z.array(z.string()).min(1)], { error: 'on must be an event type or a non-empty list of them' });

const ROOT_KEYS = ['version', 'queues', 'policies', 'rules'];
const RULE_KEYS = ['id', 'description', 'on', 'when', 'then'];
const THEN_KEYS = ['case', 'actions'];

// ---- Locations ---------------------------------------------------------------------------

export function formatPath(path: Path): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

/** Maps paths in the parsed value back to lines and columns of the source. */
class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Where the node at path starts, or else its nearest ancestor; 'key' prefers the key of the map entry. */
  position(path: Path, prefer: 'key' | 'value'): { line: number; column: number } {
    if (prefer === 'key' && path.length > 0) {
      const parent = this.node(path.slice(0, -1));
      if (isMap(parent)) {
        const pair = parent.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === path[path.length - 1]);
        const key = pair?.key as Node | undefined;
        if (key?.range) return this.at(key.range[0]);
      }
    }
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.node(path.slice(0, depth));
      if (node?.range) return this.at(node.range[0]);
    }
    return { line: 1, column: 1 };
  }

  private node(path: Path): Node | undefined {
    const found = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    return found && typeof found === 'object' && 'range' in found ? (found as Node) : undefined;
  }

  at(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }
}

class Problems {
  readonly found: RuleFileError[] = [];

  constructor(
    private readonly file: string,
    private readonly source: SourceMap,
  ) {}

  add(path: Path, message: string, prefer: 'key' | 'value' = 'value'): void {
    this.found.push({ file: this.file, ...this.source.position(path, prefer), path: formatPath(path), message });
  }

  addAt(offset: number, message: string): void {
    this.found.push({ file: this.file, ...this.source.at(offset), path: '', message });
  }

  /** Validates one value with a zod schema; reports every issue and returns the value only when it is valid. */
  check<T>(schema: z.ZodType<T>, value: unknown, path: Path): T | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const at = [...path, ...(issue.path as Path)];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.add([...at, key], `unknown key ${quote(key)} ${issue.message}`, 'key');
      } else if (issue.code === 'invalid_type' && valueAt(value, issue.path as Path) === undefined) {
        this.add(at, `missing ${quote(at[at.length - 1])}`);
      } else {
        this.add(at, issue.message);
      }
    }
    return undefined;
  }

  /** Reports keys a hand-checked map does not know. */
  unknownKeys(value: Record<string, unknown>, allowed: readonly string[], what: string, path: Path): void {
    for (const key of Object.keys(value)) if (!allowed.includes(key)) this.add([...path, key], `unknown key ${quote(key)} in ${what}; expected ${list(allowed)}`, 'key');
  }
}

function valueAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

// ---- Rules -------------------------------------------------------------------------------

interface EventFacts {
  type: string;
  facts: ReadonlyMap<string, FactSpec>;
}

/** Checks a condition tree, with fact checks when the rule's event types are known. */
function parseCondition(raw: unknown, path: Path, events: EventFacts[] | undefined, problems: Problems): Condition | undefined {
  if (!isPlainMap(raw)) {
    problems.add(path, 'a condition is a map: { all: [...] }, { any: [...] }, { not: {...} } or { fact, <operator>: value }');
    return undefined;
  }
  const keys = Object.keys(raw);
  const combinator = keys.find((key) => key === 'all' || key === 'any' || key === 'not');
  if (combinator) {
    const extra = keys.find((key) => key !== combinator);
    if (extra !== undefined) {
      problems.add([...path, extra], `a condition with ${quote(combinator)} has no other keys; put ${quote(extra)} in a condition of its own`, 'key');
      return undefined;
    }
    const inner = raw[combinator];
    if (combinator === 'not') {
      const condition = parseCondition(inner, [...path, 'not'], events, problems);
      return condition && { not: condition };
    }
    if (!Array.isArray(inner) || inner.length === 0) {
      problems.add([...path, combinator], `${quote(combinator)} needs a non-empty list of conditions`);
      return undefined;
    }
    const conditions = inner.map((item, index) => parseCondition(item, [...path, combinator, index], events, problems));
    if (conditions.some((condition) => condition === undefined)) return undefined;
    return combinator === 'all' ? { all: conditions as Condition[] } : { any: conditions as Condition[] };
  }

  if (!('fact' in raw)) {
    if (keys.length === 0) problems.add(path, 'empty condition; expected all, any, not or { fact, <operator>: value }');
    else problems.add([...path, keys[0]], `unknown condition key ${quote(keys[0])}; expected all, any, not or fact`, 'key');
    return undefined;
  }
  const fact = raw.fact;
  const operatorKeys = keys.filter((key) => key !== 'fact');
  let valid = true;
  for (const key of operatorKeys) {
    if (!OPERATORS.has(key as Operator)) {
      problems.add([...path, key], `unknown operator ${quote(key)}; expected one of ${list(OPERATOR_NAMES)}`, 'key');
      valid = false;
    }
  }
  if (typeof fact !== 'string') {
    problems.add([...path, 'fact'], 'fact must be a fact name, e.g. match.banks');
    return undefined;
  }
  if (!valid) return undefined;
  if (operatorKeys.length === 0) {
    problems.add(path, `no operator for fact ${quote(fact)}; expected one of ${list(OPERATOR_NAMES)}`);
    return undefined;
  }
  if (operatorKeys.length > 1) {
    problems.add([...path, operatorKeys[1]], `one operator per condition (found ${list(operatorKeys)}); combine conditions with all`, 'key');
    return undefined;
  }
  const op = operatorKeys[0] as Operator;
  const operator = OPERATORS.get(op)!;
  let spec: FactSpec | undefined;
  if (events) {
    const lacking = events.find((event) => !event.facts.has(fact));
    if (lacking) {
      problems.add([...path, 'fact'], `fact \`${fact}\` is not provided for ${lacking.type}; known facts: ${list([...lacking.facts.keys()])}`);
      return undefined;
    }
    spec = events[0].facts.get(fact)!;
    if (!operator.factTypes.includes(spec.type)) {
      problems.add([...path, op], `operator ${quote(op)} does not apply to ${fact}, a ${spec.type} fact; use one of ${list(operatorsFor(spec.type))}`, 'key');
      return undefined;
    }
  }
  const value = raw[op];
  const problem = operator.checkValue(value, spec);
  if (problem) {
    problems.add([...path, op], `${op}: ${problem}`);
    return undefined;
  }
  return { fact, op, value: value as OperandValue };
}

/** Which subject kinds events of a type can name: those with an id fact. */
const canSupply = (event: EventFacts, kind: SubjectKind) => event.facts.has(`${kind}.id`);
const suppliedKinds = (event: EventFacts) => SUBJECT_KINDS.filter((kind) => canSupply(event, kind));

interface Declared {
  queues: Set<string>;
  ruleIds: Map<string, number>;
}

function parseRule(raw: unknown, path: Path, providers: FactProviderRegistry, declared: Declared, problems: Problems, source: SourceMap): Rule | undefined {
  if (!isPlainMap(raw)) {
    problems.add(path, 'a rule must be a map with id, on, when and then');
    return undefined;
  }
  problems.unknownKeys(raw, RULE_KEYS, 'a rule', path);
  const id = problems.check(nameSchema('a rule id'), raw.id, [...path, 'id']);
  if (id !== undefined) {
    const first = declared.ruleIds.get(id);
    if (first !== undefined) problems.add([...path, 'id'], `duplicate rule id ${quote(id)} (first at line ${first})`);
    else declared.ruleIds.set(id, source.position([...path, 'id'], 'value').line);
  }
  const description = problems.check(z.string({ error: 'description must be a string' }).optional(), raw.description, [...path, 'description']);

  const on = problems.check(onSchema, raw.on, [...path, 'on']);
  const types = on === undefined ? undefined : [...new Set(typeof on === 'string' ? [on] : on)];
  let events: EventFacts[] | undefined;
  if (types) {
    const unknown = types.filter((type) => !providers.facts(type));
    for (const type of unknown) {
      const at = typeof on === 'string' ? [...path, 'on'] : [...path, 'on', (on as string[]).indexOf(type)];
      problems.add(at, `unknown event type ${quote(type)}; rules can listen to ${list(providers.eventTypes)}`);
    }
    if (unknown.length === 0) events = types.map((type) => ({ type, facts: providers.facts(type)! }));
  }

  const when = raw.when === undefined ? undefined : parseCondition(raw.when, [...path, 'when'], events, problems);

  const then = parseThen(raw.then, [...path, 'then'], events, declared, problems);
  if (id === undefined || types === undefined || !then || (raw.when !== undefined && when === undefined)) return undefined;
  return { id, ...(description !== undefined ? { description } : {}), on: types, ...(when ? { when } : {}), then };
}

/** Checks what a rule does; the case and each action on their own, so one mistake does not hide another. */
function parseThen(raw: unknown, path: Path, events: EventFacts[] | undefined, declared: Declared, problems: Problems): Rule['then'] | undefined {
  if (raw === undefined) {
    problems.add(path, 'missing "then": a rule needs a case, actions or both');
    return undefined;
  }
  if (!isPlainMap(raw)) {
    problems.add(path, 'then must be a map with case, actions or both');
    return undefined;
  }
  problems.unknownKeys(raw, THEN_KEYS, 'then', path);
  let ok = true;
  let caseSpec: CaseSpec | undefined;
  if (raw.case !== undefined) {
    const parsed = problems.check(caseSchema, raw.case, [...path, 'case']);
    const queue = parsed?.queue ?? (isPlainMap(raw.case) && typeof raw.case.queue === 'string' ? raw.case.queue : undefined);
    if (queue !== undefined && !declared.queues.has(queue)) {
      problems.add([...path, 'case', 'queue'], `queue ${quote(queue)} is not declared in queues${declared.queues.size ? `; declared: ${list([...declared.queues])}` : ''}`);
    }
    const subject = parsed?.subject;
    const lacking = subject && events?.find((event) => !canSupply(event, subject));
    if (subject && lacking) {
      problems.add([...path, 'case', 'subject'], `${lacking.type} events name no ${subject} for a case; they name ${list(suppliedKinds(lacking))}`);
    }
    if (parsed) caseSpec = { queue: parsed.queue, severity: parsed.severity, priority: parsed.priority, ...(subject ? { subject } : {}) };
    else ok = false;
  }
  const actions: ActionSpec[] = [];
  if (raw.actions !== undefined && !Array.isArray(raw.actions)) {
    problems.add([...path, 'actions'], 'actions must be a list of action types or { type, target }');
    ok = false;
  }
  const written = Array.isArray(raw.actions) ? raw.actions : [];
  written.forEach((item, index) => {
    const action = problems.check(actionSchema, item, [...path, 'actions', index]);
    if (!action) {
      ok = false;
      return;
    }
    const target = action.target ?? ACTION_DEFAULT_TARGETS[action.type];
    const lacking = events?.find((event) => !canSupply(event, target));
    if (lacking) {
      const at = [...path, 'actions', index, ...(action.target ? ['target'] : [])];
      problems.add(at, `${action.type} acts on ${target}, and ${lacking.type} events name no ${target}; they name ${list(suppliedKinds(lacking))}`);
    }
    actions.push({ type: action.type, target });
  });
  if (raw.case === undefined && written.length === 0) {
    problems.add(path, 'then needs a case, actions or both');
    ok = false;
  }
  return ok ? { ...(caseSpec ? { case: caseSpec } : {}), actions } : undefined;
}

/** Items of a top-level list, each validated on its own so one bad entry does not hide the rest. */
function listAt(root: Record<string, unknown>, key: string, problems: Problems, required: boolean): unknown[] {
  const value = root[key];
  if (value === undefined || value === null) {
    if (required) problems.add([key], `missing ${quote(key)}`);
    return [];
  }
  if (!Array.isArray(value)) {
    problems.add([key], `${key} must be a list`);
    return [];
  }
  return value;
}

/** Alias expansions allowed when a rule file becomes a value; the yaml package's own default (100) made explicit. */
export const MAX_ALIAS_COUNT = 100;

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/**
 * Parses and checks a rule file (YAML, or JSON, which YAML reads too with the same line
 * numbers). Every problem in the file is found, not just the first; if there are any, one
 * `invalid` error lists them by line.
 */
export function parseRuleFile(text: string, fileName: string, providers: FactProviderRegistry = defaultFactProviders()): RuleSet {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(doc, lines);
  const problems = new Problems(fileName, source);
  const unstorable = unstorableAt(text);
  if (unstorable) {
    problems.addAt(unstorable.index, `the file ${unstorable.reason}`);
    throw fileError(fileName, problems.found);
  }
  if (doc.errors.length > 0) {
    for (const error of doc.errors) problems.addAt(error.pos[0], `YAML syntax: ${error.message}`);
    throw fileError(fileName, problems.found);
  }
  let root: unknown;
  try {
    // Aliases expand when the document becomes a value: a few lines can stand for billions of nodes.
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    problems.addAt(firstAliasOffset(doc), `YAML aliases: ${error instanceof Error ? error.message : String(error)} (at most ${MAX_ALIAS_COUNT} alias expansions)`);
    throw fileError(fileName, problems.found);
  }
  const hidden = findUnstorable(root);
  if (hidden) {
    problems.add(hidden.path, `${formatPath(hidden.path) || 'the file'} ${hidden.reason}`);
    throw fileError(fileName, problems.found);
  }
  if (!isPlainMap(root)) {
    problems.add([], 'a rule file is a map with version, queues, policies and rules');
    throw fileError(fileName, problems.found);
  }
  problems.unknownKeys(root, ROOT_KEYS, 'a rule file', []);
  if (root.version === undefined) problems.add([], 'missing "version" (this format is version 1)');
  else if (root.version !== 1) problems.add(['version'], `version must be 1, the only version of this format; got ${quote(root.version)}`);

  const queues: QueueConfig[] = [];
  const declared: Declared = { queues: new Set(), ruleIds: new Map() };
  const queueLines = new Map<string, number>();
  listAt(root, 'queues', problems, false).forEach((raw, index) => {
    const path = ['queues', index];
    const queue = problems.check(queueSchema, raw, path);
    // A queue whose other fields are wrong still counts as declared, so rules naming it are not reported too.
    const name = queue?.name ?? (isPlainMap(raw) && typeof raw.name === 'string' ? raw.name : undefined);
    if (name === undefined) return;
    const first = queueLines.get(name);
    if (first !== undefined) {
      problems.add([...path, 'name'], `duplicate queue ${quote(name)} (first at line ${first})`);
      return;
    }
    queueLines.set(name, source.position([...path, 'name'], 'value').line);
    declared.queues.add(name);
    if (queue) queues.push({ name: queue.name, description: queue.description, slaMinutes: queue.sla_minutes, ...(queue.team ? { team: queue.team } : {}) });
  });

  const policies: Policy[] = [];
  const policyLines = new Map<string, number>();
  listAt(root, 'policies', problems, false).forEach((raw, index) => {
    const path = ['policies', index];
    const policy = problems.check(policySchema, raw, path);
    if (!policy) return;
    const first = policyLines.get(policy.id);
    if (first !== undefined) {
      problems.add([...path, 'id'], `duplicate policy id ${quote(policy.id)} (first at line ${first})`);
      return;
    }
    policyLines.set(policy.id, source.position([...path, 'id'], 'value').line);
    policies.push({ id: policy.id, title: policy.title, ...(policy.legal_ground !== undefined ? { legalGround: policy.legal_ground } : {}), ...(policy.subjects ? { subjects: policy.subjects } : {}) });
  });

  const rules = listAt(root, 'rules', problems, true)
    .map((raw, index) => parseRule(raw, ['rules', index], providers, declared, problems, source))
    .filter((rule): rule is Rule => rule !== undefined);

  if (problems.found.length > 0) throw fileError(fileName, problems.found);
  return { version: 1, queues, policies, rules };
}

function fileError(fileName: string, found: RuleFileError[]) {
  const errors = [...found].sort((a, b) => a.line - b.line || a.column - b.column);
  const lines = errors.slice(0, MESSAGE_ERROR_LIMIT).map((error) => `${error.file}:${error.line}:${error.column}: ${error.message}`);
  if (errors.length > MESSAGE_ERROR_LIMIT) lines.push(`… and ${errors.length - MESSAGE_ERROR_LIMIT} more`);
  const message = errors.length === 1 ? lines[0] : `${fileName} has ${errors.length} errors:\n${lines.join('\n')}`;
  const [first] = errors;
  return invalid(message, { file: first.file, line: first.line, column: first.column, path: first.path, errors });
}

/** Reads and parses a rule file; a file that cannot be read is an `invalid` error naming it. */
export async function loadRuleFile(path: string, providers: FactProviderRegistry = defaultFactProviders()): Promise<RuleSet> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw invalid(`cannot read rule file ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, { file: path });
  });
  return parseRuleFile(text, path, providers);
}
