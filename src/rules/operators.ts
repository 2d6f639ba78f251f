import type { FactSpec, FactTest, FactType, FactValue, OperandValue, Operator } from './types.ts';

/**
 * One comparison a rule can make. The parser asks it whether it fits a fact and whether
 * the written value fits it; the evaluator asks whether a fact value satisfies it and how
 * to say so in a firing's summary.
 */
export interface OperatorDefinition {
  readonly name: Operator;
  /** Fact types the operator applies to. */
  readonly factTypes: readonly FactType[];
  /** Why the written value does not fit (undefined when it does). The fact's spec is absent when the rule's event types are themselves in error. */
  checkValue(value: unknown, fact: FactSpec | undefined): string | undefined;
  /** Null and absent facts reach this as null. */
  holds(actual: FactValue, value: OperandValue): boolean;
  /** The test as the rule writes it: "network.size > 5". */
  written(test: FactTest): string;
  /** What the fact was, when the written test does not already say it (summaries show "network.size > 5 (14)"). */
  evidence?(test: FactTest, actual: FactValue): string | undefined;
}

/** How a test that held reads in a firing's summary. */
export function describeTest(test: FactTest, actual: FactValue): string {
  const operator = OPERATORS.get(test.op)!;
  const evidence = operator.evidence?.(test, actual);
  return evidence === undefined ? operator.written(test) : `${operator.written(test)} (${evidence})`;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isScalar = (value: unknown): value is string | number | boolean => typeof value === 'string' || typeof value === 'boolean' || isNumber(value);

export function formatValue(value: FactValue | OperandValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => formatValue(item)).join(', ')}]`;
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toFixed(4)));
  return String(value);
}

const typeName = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map' : `${typeof value} ${JSON.stringify(value)}`);

/** A closed vocabulary (account.label) refuses values outside it, so a typo cannot silently never match. */
function outsideVocabulary(values: unknown[], fact: FactSpec | undefined): string | undefined {
  if (!fact?.values) return undefined;
  const unknown = values.find((value) => typeof value === 'string' && !fact.values!.includes(value));
  return unknown === undefined ? undefined : `${JSON.stringify(unknown)} is not a value of ${fact.name}; expected one of ${fact.values.join(', ')}`;
}

/** The written value has the fact's own scalar type. */
function checkScalar(value: unknown, fact: FactSpec | undefined): string | undefined {
  if (!isScalar(value)) return `expected a string, number or boolean, got ${typeName(value)}`;
  if (fact && fact.type !== 'list' && typeof value !== fact.type) return `${fact.name} is a ${fact.type}; got ${typeName(value)}`;
  return outsideVocabulary([value], fact);
}

const sameScalar = (actual: FactValue, value: OperandValue) => actual !== null && !Array.isArray(actual) && actual === value;

const equals: OperatorDefinition = {
  name: 'equals',
  factTypes: ['string', 'number', 'boolean'],
  checkValue: checkScalar,
  holds: sameScalar,
  written: (test) => `${test.fact} = ${formatValue(test.value)}`,
};

const notEquals: OperatorDefinition = {
  name: 'not_equals',
  factTypes: ['string', 'number', 'boolean'],
  checkValue: checkScalar,
  holds: (actual, value) => actual !== null && !Array.isArray(actual) && actual !== value,
  written: (test) => `${test.fact} != ${formatValue(test.value)}`,
  evidence: (_test, actual) => formatValue(actual),
};

const inList: OperatorDefinition = {
  name: 'in',
  factTypes: ['string', 'number'],
  checkValue(value, fact) {
    if (!Array.isArray(value) || value.length === 0) return `expected a non-empty list, got ${typeName(value)}`;
    for (const item of value) {
      if (typeof item !== 'string' && !isNumber(item)) return `list items must be strings or numbers, got ${typeName(item)}`;
      if (fact && fact.type !== 'list' && typeof item !== fact.type) return `${fact.name} is a ${fact.type}; got ${typeName(item)}`;
    }
    return outsideVocabulary(value, fact);
  },
  holds: (actual, value) => actual !== null && !Array.isArray(actual) && (value as (string | number)[]).includes(actual as string | number),
  written: (test) => `${test.fact} in ${formatValue(test.value)}`,
  evidence: (_test, actual) => formatValue(actual),
};

const contains: OperatorDefinition = {
  name: 'contains',
  factTypes: ['list'],
  checkValue: (value, fact) => (typeof value === 'string' ? outsideVocabulary([value], fact) : `expected a string, got ${typeName(value)}`),
  holds: (actual, value) => Array.isArray(actual) && actual.includes(value as string),
  written: (test) => `${test.fact} contains ${formatValue(test.value)}`,
};

const containsAny: OperatorDefinition = {
  name: 'contains_any',
  factTypes: ['list'],
  checkValue(value, fact) {
    if (!Array.isArray(value) || value.length === 0) return `expected a non-empty list of strings, got ${typeName(value)}`;
    const bad = value.find((item) => typeof item !== 'string');
    if (bad !== undefined) return `list items must be strings, got ${typeName(bad)}`;
    return outsideVocabulary(value, fact);
  },
  holds: (actual, value) => Array.isArray(actual) && (value as string[]).some((item) => actual.includes(item)),
  written: (test) => `${test.fact} contains any of ${formatValue(test.value)}`,
  evidence: (test, actual) => (test.value as string[]).filter((item) => Array.isArray(actual) && actual.includes(item)).join(', '),
};

function numeric(name: Operator, symbol: string, compare: (actual: number, value: number) => boolean): OperatorDefinition {
  return {
    name,
    factTypes: ['number'],
    checkValue: (value) => (isNumber(value) ? undefined : `expected a number, got ${typeName(value)}`),
    holds: (actual, value) => isNumber(actual) && compare(actual, value as number),
    written: (test) => `${test.fact} ${symbol} ${formatValue(test.value)}`,
    evidence: (_test, actual) => formatValue(actual),
  };
}

const exists: OperatorDefinition = {
  name: 'exists',
  factTypes: ['string', 'number', 'boolean', 'list'],
  checkValue: (value) => (typeof value === 'boolean' ? undefined : `expected true or false, got ${typeName(value)}`),
  holds: (actual, value) => (actual !== null) === value,
  written: (test) => (test.value ? `${test.fact} exists` : `${test.fact} is unknown`),
  evidence: (test, actual) => (test.value ? formatValue(actual) : undefined),
};

export const OPERATORS: ReadonlyMap<Operator, OperatorDefinition> = new Map(
  [
    equals,
    notEquals,
    inList,
    contains,
    containsAny,
    numeric('gt', '>', (a, b) => a > b),
    numeric('gte', '>=', (a, b) => a >= b),
    numeric('lt', '<', (a, b) => a < b),
    numeric('lte', '<=', (a, b) => a <= b),
    exists,
  ].map((operator) => [operator.name, operator]),
);

export const OPERATOR_NAMES = [...OPERATORS.keys()];

/** Operators that apply to a fact type, for error messages. */
export const operatorsFor = (type: FactType): Operator[] => OPERATOR_NAMES.filter((name) => OPERATORS.get(name)!.factTypes.includes(type));
