import type { Readable } from 'node:stream';
import { invalid } from '../errors.ts';
import { type EventIngestService, type IngestResult, MAX_REPORTED_PROBLEMS, parsePlatformEvents } from './event-ingest.ts';
import type { PlatformEvent } from './platform-events.ts';
import { contentLines } from './text-lines.ts';

export interface EventImportOptions {
  batchSize?: number;
  onProgress?: (phase: 'checking' | 'applying', lines: number) => void;
}

export interface EventImportResult extends IngestResult {
  lines: number;
  batches: number;
}

async function* jsonLines(input: Readable): AsyncGenerator<{ line: number; value: unknown } | { line: number; error: string }> {
  for await (const { line, text } of contentLines(input)) {
    try {
      yield { line, value: JSON.parse(text) };
    } catch {
      yield { line, error: 'not valid JSON' };
    }
  }
}

/**
 * Imports a JSON-lines file of platform events (a byte order mark, blank lines and # comment
 * lines are skipped, as in hash-list imports). The whole file is checked first and
 * nothing is applied if any line is bad (each bad line is named); then it is applied in
 * batches, each one transaction. Events with an event_id make a re-run after an
 * interruption safe: those already applied are skipped as duplicates.
 */
export async function importEventLines(service: EventIngestService, open: () => Readable, options: EventImportOptions = {}): Promise<EventImportResult> {
  const problems: { line: number; path: string; message: string }[] = [];
  let bad = 0;
  let lines = 0;
  for await (const item of jsonLines(open())) {
    lines = item.line;
    if ('error' in item) {
      bad++;
      if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ line: item.line, path: '(line)', message: item.error });
    } else {
      try {
        parsePlatformEvents([item.value], item.line);
      } catch (error) {
        bad++;
        const first = ((error as { details?: { problems?: { path: string; message: string }[] } }).details?.problems ?? [])[0];
        if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ line: item.line, path: first?.path ?? '(event)', message: first?.message ?? 'invalid' });
      }
    }
    if (item.line % 10_000 === 0) options.onProgress?.('checking', item.line);
  }
  if (bad > 0) {
    const first = problems[0];
    throw invalid(`${bad} bad line${bad === 1 ? '' : 's'}; nothing was imported (first: line ${first.line}, ${first.path}: ${first.message})`, { bad_lines: bad, problems });
  }

  const batchSize = options.batchSize ?? 5000;
  const total: EventImportResult = { received: 0, applied: 0, duplicates: 0, ignored: [], termMatches: 0, lines, batches: 0 };
  let batch: PlatformEvent[] = [];
  let batchLines: number[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await service.apply(batch);
    total.received += result.received;
    total.applied += result.applied;
    total.duplicates += result.duplicates;
    total.termMatches += result.termMatches;
    for (const ignored of result.ignored) if (total.ignored.length < 1000) total.ignored.push({ index: batchLines[ignored.index], reason: ignored.reason });
    total.batches++;
    options.onProgress?.('applying', batchLines[batchLines.length - 1]);
    batch = [];
    batchLines = [];
  };
  for await (const item of jsonLines(open())) {
    if ('error' in item) continue;
    batch.push(parsePlatformEvents([item.value], item.line)[0]);
    batchLines.push(item.line);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return total;
}
