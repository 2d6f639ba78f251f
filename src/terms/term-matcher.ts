import { normalizeCompact, normalizeHashtag, normalizeTokens } from './normalize.ts';

export type TermAction = 'block' | 'interstitial' | 'signal';

export interface TermListInput {
  name: string;
  action: TermAction;
  terms: { id: string; term: string; mode?: 'word' | 'substring' }[];
}

export interface TermMatch {
  list: string;
  action: TermAction;
  termId: string;
}

interface CompiledTerm {
  list: string;
  action: TermAction;
  termId: string;
  words: string[];
  compact: string;
}

const STRICTNESS: Record<TermAction, number> = { block: 3, interstitial: 2, signal: 1 };

/**
 * Matches text against the operator's term lists after normalisation. Word-mode terms are
 * indexed by their first word, so a text is matched in one pass over its words whatever
 * the number of terms; spelled-out terms ("t e r m") are caught by joining runs of
 * single letters. Substring-mode terms match anywhere in the separator-free text.
 */
export class TermMatcher {
  private readonly byFirstWord = new Map<string, CompiledTerm[]>();
  private readonly byCompact = new Map<string, CompiledTerm[]>();
  private readonly substrings: CompiledTerm[] = [];
  readonly termCount: number;

  constructor(lists: TermListInput[]) {
    let count = 0;
    for (const list of lists) {
      if (!list.name) throw new Error('a term list needs a name');
      const ids = new Set<string>();
      for (const term of list.terms) {
        if (ids.has(term.id)) throw new Error(`term list ${list.name}: term id ${term.id} is used twice`);
        ids.add(term.id);
        const words = normalizeTokens(term.term);
        if (words.length === 0) throw new Error(`term list ${list.name}: term ${term.id} is empty after normalisation`);
        const compiled: CompiledTerm = { list: list.name, action: list.action, termId: term.id, words, compact: words.join('') };
        if (term.mode === 'substring') this.substrings.push(compiled);
        else {
          push(this.byFirstWord, words[0], compiled);
          push(this.byCompact, compiled.compact, compiled);
        }
        count++;
      }
    }
    this.termCount = count;
  }

  match(text: string): TermMatch[] {
    const found = new Map<string, TermMatch>();
    const add = (term: CompiledTerm) => found.set(`${term.list}\u0000${term.termId}`, { list: term.list, action: term.action, termId: term.termId });
    const words = normalizeTokens(text);
    for (let i = 0; i < words.length; i++) {
      for (const term of this.byFirstWord.get(words[i]) ?? []) {
        if (term.words.every((word, k) => words[i + k] === word)) add(term);
      }
    }
    // "t e r m", "t.e.r.m": a run of single letters is read as one word too.
    for (let i = 0; i < words.length; ) {
      let j = i;
      while (j < words.length && words[j].length === 1) j++;
      if (j - i >= 2) {
        const run = words.slice(i, j).join('');
        for (let start = 0; start < run.length; start++) {
          for (let end = start + 2; end <= Math.min(run.length, start + 64); end++) for (const term of this.byCompact.get(run.slice(start, end)) ?? []) add(term);
        }
        i = j;
      } else i++;
    }
    if (this.substrings.length > 0) {
      const compact = words.join('');
      for (const term of this.substrings) if (compact.includes(term.compact)) add(term);
    }
    return [...found.values()];
  }

  /** A hashtag is one word with its separators gone: it matches a term whose words, joined, are the hashtag. */
  matchHashtag(tag: string): TermMatch[] {
    const compact = normalizeHashtag(tag);
    const found: TermMatch[] = [];
    for (const term of this.byCompact.get(compact) ?? []) found.push({ list: term.list, action: term.action, termId: term.termId });
    for (const term of this.substrings) if (compact.includes(term.compact)) found.push({ list: term.list, action: term.action, termId: term.termId });
    return found;
  }

  /** The strictest action among matches: block, then interstitial, then signal. */
  static strictest(matches: TermMatch[]): TermAction | undefined {
    let strictest: TermAction | undefined;
    for (const match of matches) if (!strictest || STRICTNESS[match.action] > STRICTNESS[strictest]) strictest = match.action;
    return strictest;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
