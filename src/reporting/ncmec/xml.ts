/**
 * The small XML model NCMEC's documents need: elements with attributes and either text or
 * child elements (no mixed content). Everything written is escaped; the reader accepts only
 * that shape and refuses DOCTYPE declarations, so a hostile response cannot expand entities.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Text content; only for elements without children. */
  text?: string;
}

export type XmlChild = XmlElement | undefined | false | null;

/** An element with children (undefined, false and null children are left out). */
export function el(name: string, attributes: Record<string, string | undefined>, ...children: XmlChild[]): XmlElement {
  return { name, attributes: definedAttributes(attributes), children: children.filter((child): child is XmlElement => Boolean(child)) };
}

/** An element holding text; undefined when there is no text, so optional elements drop out. */
export function textEl(name: string, text: string | number | boolean | undefined | null, attributes: Record<string, string | undefined> = {}): XmlElement | undefined {
  if (text === undefined || text === null || text === '') return undefined;
  return { name, attributes: definedAttributes(attributes), children: [], text: String(text) };
}

function definedAttributes(attributes: Record<string, string | undefined>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) defined[key] = value;
  return defined;
}

// XML 1.0 forbids most control characters outright, even escaped; they are dropped.
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(value: string): string {
  return value
    .replace(FORBIDDEN_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function serializeXml(root: XmlElement): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const write = (element: XmlElement, depth: number) => {
    const indent = '  '.repeat(depth);
    const attrs = Object.entries(element.attributes).map(([key, value]) => ` ${key}="${escapeXml(value)}"`).join('');
    if (element.children.length > 0) {
      lines.push(`${indent}<${element.name}${attrs}>`);
      for (const child of element.children) write(child, depth + 1);
      lines.push(`${indent}</${element.name}>`);
    } else if (element.text !== undefined) {
      lines.push(`${indent}<${element.name}${attrs}>${escapeXml(element.text)}</${element.name}>`);
    } else {
      lines.push(`${indent}<${element.name}${attrs}/>`);
    }
  };
  write(root, 0);
  return lines.join('\n') + '\n';
}

export class XmlParseError extends Error {}

const NAME = /^[A-Za-z_][\w.:-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    const value = ENTITIES[entity];
    if (value === undefined) throw new XmlParseError(`unknown entity ${whole}`);
    return value;
  });
}

/** Reads a document of the shape serializeXml writes (comments and the declaration allowed). */
export function parseXml(source: string, maxDepth = 32): XmlElement {
  if (/<!DOCTYPE/i.test(source)) throw new XmlParseError('DOCTYPE declarations are not accepted');
  let pos = 0;
  const skipMisc = () => {
    for (;;) {
      const rest = source.slice(pos);
      const space = /^\s+/.exec(rest);
      if (space) {
        pos += space[0].length;
        continue;
      }
      if (rest.startsWith('<?')) {
        const end = source.indexOf('?>', pos);
        if (end < 0) throw new XmlParseError('unterminated processing instruction');
        pos = end + 2;
        continue;
      }
      if (rest.startsWith('<!--')) {
        const end = source.indexOf('-->', pos);
        if (end < 0) throw new XmlParseError('unterminated comment');
        pos = end + 3;
        continue;
      }
      return;
    }
  };
  const parseElement = (depth: number): XmlElement => {
    if (depth > maxDepth) throw new XmlParseError('document nested too deeply');
    if (source[pos] !== '<') throw new XmlParseError(`expected an element at offset ${pos}`);
    pos++;
    const nameMatch = NAME.exec(source.slice(pos));
    if (!nameMatch) throw new XmlParseError(`expected an element name at offset ${pos}`);
    const name = nameMatch[0];
    pos += name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const rest = source.slice(pos);
      const attr = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
      if (attr) {
        if (attr[1] in attributes) throw new XmlParseError(`attribute ${attr[1]} given twice on <${name}>`);
        attributes[attr[1]] = unescape(attr[3] ?? attr[4] ?? '');
        pos += attr[0].length;
        continue;
      }
      const close = /^\s*(\/?)>/.exec(rest);
      if (!close) throw new XmlParseError(`malformed start tag <${name}>`);
      pos += close[0].length;
      if (close[1] === '/') return { name, attributes, children: [] };
      break;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (pos >= source.length) throw new XmlParseError(`<${name}> is not closed`);
      if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) throw new XmlParseError('unterminated comment');
        pos = end + 3;
      } else if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos);
        if (end < 0) throw new XmlParseError('unterminated CDATA section');
        text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source.startsWith('</', pos)) {
        const end = source.indexOf('>', pos);
        const closing = source.slice(pos + 2, end).trim();
        if (closing !== name) throw new XmlParseError(`<${name}> closed by </${closing}>`);
        pos = end + 1;
        break;
      } else if (source[pos] === '<') {
        children.push(parseElement(depth + 1));
      } else {
        const next = source.indexOf('<', pos);
        if (next < 0) throw new XmlParseError(`<${name}> is not closed`);
        text += unescape(source.slice(pos, next));
        pos = next;
      }
    }
    if (children.length > 0) {
      if (text.trim() !== '') throw new XmlParseError(`<${name}> mixes text and elements`);
      return { name, attributes, children };
    }
    return text === '' ? { name, attributes, children } : { name, attributes, children, text };
  };
  skipMisc();
  const root = parseElement(0);
  skipMisc();
  if (pos !== source.length) throw new XmlParseError('content after the document element');
  return root;
}

/** The text of the first child element with this name. */
export function childText(element: XmlElement, name: string): string | undefined {
  return element.children.find((child) => child.name === name)?.text;
}
