import type { AttributeRule, ComplexType, ElementRule, SimpleType } from './schema.ts';
import type { XmlElement } from './xml.ts';

// xs:dateTime with a required zone: NCMEC asks for the date, time and time zone.
const DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/;
const INTEGER = /^-?\d+$/;

/**
 * Checks a document against the transcribed schema: the root's name, each sequence's order
 * and cardinality, required attributes, enumerations and the formats of dates, emails,
 * booleans, integers and URLs. Returns every problem found, each naming its path.
 */
export function validateDocument(root: XmlElement, rule: ElementRule): string[] {
  const errors: string[] = [];
  if (root.name !== rule.name) return [`the document element is <${root.name}>, expected <${rule.name}>`];
  checkElement(root, rule, `/${rule.name}`, errors);
  return errors;
}

function checkElement(element: XmlElement, rule: ElementRule, path: string, errors: string[]): void {
  checkAttributes(element, rule.attributes ?? [], path, errors);
  const content = rule.content;
  if (content.kind === 'any') return;
  if (content.kind === 'sequence') {
    if (element.text !== undefined && element.text.trim() !== '') errors.push(`${path}: holds text where elements are expected`);
    checkSequence(element.children, content, path, errors);
    return;
  }
  if (element.children.length > 0) {
    errors.push(`${path}: holds elements where a value is expected`);
    return;
  }
  const problem = checkValue(element.text ?? '', content);
  if (problem) errors.push(`${path}: ${problem}`);
}

function checkSequence(children: XmlElement[], type: ComplexType, path: string, errors: string[]): void {
  let index = 0;
  for (const rule of type.children) {
    let count = 0;
    while (index < children.length && children[index].name === rule.name) {
      count++;
      if (count <= rule.max) checkElement(children[index], rule, `${path}/${rule.name}${rule.max > 1 ? `[${count}]` : ''}`, errors);
      index++;
    }
    if (count < rule.min) errors.push(`${path}: <${rule.name}> is required${rule.min > 1 ? ` at least ${rule.min} times` : ''}`);
    if (count > rule.max) errors.push(`${path}: <${rule.name}> may appear at most ${rule.max} time${rule.max === 1 ? '' : 's'}, found ${count}`);
  }
  if (index < children.length) {
    const stray = children[index];
    const known = type.children.some((rule) => rule.name === stray.name);
    errors.push(known ? `${path}: <${stray.name}> is out of order (the schema's sequence is ${type.children.map((r) => r.name).join(', ')})` : `${path}: <${stray.name}> is not allowed here`);
  }
}

function checkAttributes(element: XmlElement, rules: AttributeRule[], path: string, errors: string[]): void {
  for (const [name, value] of Object.entries(element.attributes)) {
    const rule = rules.find((candidate) => candidate.name === name);
    if (!rule) {
      if (!name.startsWith('xmlns')) errors.push(`${path}: attribute ${name} is not allowed`);
      continue;
    }
    const problem = checkValue(value, rule.type);
    if (problem) errors.push(`${path}/@${name}: ${problem}`);
  }
  for (const rule of rules) if (rule.required && !(rule.name in element.attributes)) errors.push(`${path}: attribute ${rule.name} is required`);
}

function checkValue(value: string, type: SimpleType): string | undefined {
  switch (type.kind) {
    case 'empty':
      return value === '' ? undefined : 'must be empty';
    case 'string':
      if (value.trim() === '') return 'must not be empty';
      return type.maxLength !== undefined && value.length > type.maxLength ? `longer than ${type.maxLength} characters` : undefined;
    case 'dateTime':
      return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : `${JSON.stringify(value)} is not an ISO 8601 date-time with a time zone`;
    case 'email':
      return EMAIL.test(value) && value.length <= 254 ? undefined : `${JSON.stringify(value)} is not an email address`;
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : `${JSON.stringify(value)} is not true or false`;
    case 'integer':
      return INTEGER.test(value) ? undefined : `${JSON.stringify(value)} is not an integer`;
    case 'url':
      try {
        const url = new URL(value);
        return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : `${JSON.stringify(value)} is not an http(s) URL`;
      } catch {
        return `${JSON.stringify(value)} is not a URL`;
      }
    case 'enum':
      return type.values.includes(value) ? undefined : `${JSON.stringify(value)} is not one of ${type.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
}
