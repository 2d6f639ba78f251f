import { spawn } from 'node:child_process';

/** The outcome of checking one document against an XSD with libxml2's xmllint. */
export type XsdOutcome =
  | { kind: 'valid' }
  /** The document breaks the schema (or is not well-formed); each error names a line and an element, never a value. */
  | { kind: 'invalid'; errors: string[] }
  /** The check could not run: xmllint missing, or the schema itself does not compile. */
  | { kind: 'unavailable'; reason: string };

// xmllint's exit codes (xmllint(1)): 0 valid, 1 and 4 unparsable input, 3 validation errors,
// 5 the schema does not compile.
const XMLLINT_VALIDATION_ERRORS = 3;
const XMLLINT_SCHEMA_UNUSABLE = 5;
/** More than this many error lines says nothing more; the rest are counted. */
const MAX_ERRORS = 20;

/**
 * Validates a document against an XSD by running `xmllint --noout --schema SCHEMA -` with the
 * document on stdin, so it is never written to disk. Returns what xmllint reports with the
 * document's values taken out (redactXmllintError), since reports carry personal data.
 */
export async function validateWithXsd(xml: string, schemaPath: string, xmllint = 'xmllint'): Promise<XsdOutcome> {
  const run = await runXmllint(xmllint, ['--noout', '--nonet', '--schema', schemaPath, '-'], xml);
  if (run.kind === 'missing') return { kind: 'unavailable', reason: `${xmllint} is not installed (Debian: apt-get install libxml2-utils)` };
  if (run.code === 0) return { kind: 'valid' };
  if (run.code === XMLLINT_SCHEMA_UNUSABLE) return { kind: 'unavailable', reason: 'the schema does not compile' };
  // Redacted, several lines can read the same (a parser error spans two); each is said once.
  const lines = [...new Set(run.stderr.split('\n').filter((line) => line.startsWith('-:')).map(redactXmllintError))];
  const errors = lines.slice(0, MAX_ERRORS);
  if (lines.length > MAX_ERRORS) errors.push(`… and ${lines.length - MAX_ERRORS} more`);
  if (errors.length === 0) errors.push(run.code === XMLLINT_VALIDATION_ERRORS ? 'fails to validate' : `not well-formed XML (xmllint exit ${run.code})`);
  return { kind: 'invalid', errors };
}

/** Whether the file is an XSD xmllint can compile: a probe document is checked against it. */
export async function schemaCompiles(schemaPath: string, xmllint = 'xmllint'): Promise<boolean> {
  const run = await runXmllint(xmllint, ['--noout', '--nonet', '--schema', schemaPath, '-'], '<bulwarkSchemaProbe/>');
  // A compiled schema rejects the probe (no such global element): exit 3. 5 means it did not compile.
  return run.kind === 'ran' && (run.code === 0 || run.code === XMLLINT_VALIDATION_ERRORS);
}

export function xmllintInstalled(xmllint = 'xmllint'): Promise<boolean> {
  return runXmllint(xmllint, ['--version'], '').then((run) => run.kind === 'ran' && run.code === 0);
}

/**
 * One xmllint error line without the document's values. xmllint writes
 * `-:LINE: element NAME: Schemas validity error : Element 'NAME'[, attribute 'A']: DETAIL`, and
 * DETAIL quotes the offending value ("The value 'x' is not …", "'x' is not a valid value of …").
 * Only the line, element and attribute names and a value-free description are kept.
 */
export function redactXmllintError(line: string): string {
  const located = /^-:(\d+): (?:element (\S+?): )?(.*)$/.exec(line);
  if (!located) return 'schema error';
  const [, lineNumber, element, rest] = located;
  const attribute = /Element '[^']*', attribute '([^']+)'/.exec(rest)?.[1];
  const where = `line ${lineNumber}${element ? `: <${element}>` : ''}${attribute ? ` attribute ${attribute}` : ''}`;
  return `${where}: ${describe(rest)}`;
}

function describe(message: string): string {
  const expected = /(This element is not expected|Missing child element\(s\))\. Expected is (?:one of )?\( ([\w, ]+) \)/.exec(message);
  if (expected) return `${expected[1].toLowerCase()}; expected ${expected[2].split(/,\s*/).join(', ')}`;
  if (/This element is not expected/.test(message)) return 'this element is not expected here';
  const facet = /\[facet '(\w+)'\]/.exec(message);
  if (facet) return `the value breaks the schema's ${facet[1]} rule`;
  const atomic = /is not a valid value of the (?:atomic|local atomic|union|list) type '([\w:]+)'/.exec(message);
  if (atomic) return `the value is not a valid ${atomic[1]}`;
  const attribute = /The attribute '(\w+)' is (required but missing|not allowed)/.exec(message);
  if (attribute) return `attribute ${attribute[1]} is ${attribute[2]}`;
  if (/parser error/.test(message)) return 'not well-formed XML';
  if (/No matching global declaration/.test(message)) return 'not a document the schema declares';
  return 'breaks the schema';
}

type XmllintRun = { kind: 'missing' } | { kind: 'ran'; code: number; stderr: string };

function runXmllint(command: string, args: string[], stdin: string): Promise<XmllintRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      // A document with thousands of errors must not fill memory; the first 64 KiB name plenty.
      if (size < 64 * 1024) chunks.push(chunk);
      size += chunk.length;
    });
    child.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT' ? { kind: 'missing' } : { kind: 'ran', code: -1, stderr: '' }));
    child.on('close', (code) => resolve({ kind: 'ran', code: code ?? -1, stderr: Buffer.concat(chunks).toString('utf8') }));
    // xmllint may exit before reading everything (a missing schema); the pipe then closes early.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}
