import { hashtagReadings, normalizeTokens, textReadings } from './normalize.ts';

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
  substring: boolean;
  /** Lengths of the term's normalised words, in UTF-16 units of its compact form. */
  wordLengths: number[];
}

const STRICTNESS: Record<TermAction, number> = { block: 3, interstitial: 2, signal: 1 };

/**
 * Matches text against the operator's term lists after normalisation (normalize.ts).
 *
 * Every term is compiled to its compact form (normalised words joined) and all compact
 * forms go into one Aho-Corasick automaton, so a text costs one pass over its compact form
 * whatever the number of terms. A substring-mode term matches wherever its compact form
 * occurs. A word-mode term also needs the occurrence to line up with the text's words:
 * each of the term's words must be one whole word of the text, or be spelled out in the
 * text one character per word ("t.e.r.m"). So "alpha bravo" matches "Alpha, BRAVO!",
 * "alpha_bravo", "a l p h a bravo" and "a.l.p.h.a.b.r.a.v.o", but not "alphabravo",
 * "alphab ravo" or "termalphabet" (for "term alpha").
 *
 * Text spelled out letter by letter has no word boundaries left to respect, so a
 * word-mode term matches anywhere inside such a run: "a l p h a b e t" matches "alpha".
 *
 * Term text is never put in an error message, and matches carry ids, not text.
 */
export class TermMatcher {
  private readonly terms: CompiledTerm[] = [];
  /** Term indices by compact form; the automaton's pattern i is keys[i]. */
  private readonly byKey = new Map<string, number[]>();
  private readonly patterns: number[][];
  private readonly automaton: Automaton;
  readonly termCount: number;

  constructor(lists: TermListInput[]) {
    const listNames = new Set<string>();
    lists.forEach((list, position) => {
      if (typeof list.name !== 'string' || list.name === '') throw new Error(`term list at position ${position + 1} needs a name`);
      if (listNames.has(list.name)) throw new Error(`term list ${list.name}: the name is used by more than one list`);
      listNames.add(list.name);
      if (!Object.hasOwn(STRICTNESS, list.action)) throw new Error(`term list ${list.name}: action must be block, interstitial or signal`);
      const ids = new Set<string>();
      list.terms.forEach((term, termPosition) => {
        if (typeof term.id !== 'string' || term.id === '') throw new Error(`term list ${list.name}: term at position ${termPosition + 1} needs an id`);
        if (ids.has(term.id)) throw new Error(`term list ${list.name}: term id ${term.id} is used twice`);
        ids.add(term.id);
        const mode = term.mode ?? 'word';
        if (mode !== 'word' && mode !== 'substring') throw new Error(`term list ${list.name}: term ${term.id} has a mode other than word or substring`);
        const words = typeof term.term === 'string' ? normalizeTokens(term.term) : [];
        if (words.length === 0) throw new Error(`term list ${list.name}: term ${term.id} is empty after normalisation`);
        const key = words.join('');
        const index = this.terms.push({ list: list.name, action: list.action, termId: term.id, substring: mode === 'substring', wordLengths: words.map((word) => word.length) }) - 1;
        const sharing = this.byKey.get(key);
        if (sharing) sharing.push(index);
        else this.byKey.set(key, [index]);
      });
    });
    this.termCount = this.terms.length;
    this.patterns = [...this.byKey.values()];
    this.automaton = new Automaton([...this.byKey.keys()]);
  }

  /**
   * Every distinct (list, termId) found in the text, in list order and then term order.
   * Word-mode terms match whole normalised words or word sequences, or their letters
   * spelled out with separators; substring-mode terms match anywhere in the compact text.
   */
  match(text: string): TermMatch[] {
    const found = new Set<number>();
    for (const tokens of textReadings(text)) this.scanTokens(tokens, found);
    return this.report(found);
  }

  /**
   * Same, for a hashtag. A hashtag has no separators, so a word-mode term matches only when
   * the hashtag is exactly the term's compact form ("#TermAlpha" is "term alpha", while
   * "#termalphabet" is not); a substring-mode term matches anywhere in it.
   */
  matchHashtag(tag: string): TermMatch[] {
    const found = new Set<number>();
    for (const compact of hashtagReadings(tag)) {
      for (const index of this.byKey.get(compact) ?? []) found.add(index);
      this.automaton.scan(compact, (pattern) => {
        for (const index of this.patterns[pattern]) if (this.terms[index].substring) found.add(index);
      });
    }
    return this.report(found);
  }

  /** The strictest action among matches: block > interstitial > signal, or undefined. */
  static strictest(matches: TermMatch[]): TermAction | undefined {
    let strictest: TermAction | undefined;
    for (const match of matches) if (strictest === undefined || STRICTNESS[match.action] > STRICTNESS[strictest]) strictest = match.action;
    return strictest;
  }

  private scanTokens(tokens: string[], found: Set<number>): void {
    const compact = tokens.join('');
    let words: WordLayout | undefined;
    this.automaton.scan(compact, (pattern, end) => {
      for (const index of this.patterns[pattern]) {
        if (found.has(index)) continue;
        const term = this.terms[index];
        if (term.substring) found.add(index);
        else if ((words ??= new WordLayout(tokens, compact.length)).fits(term.wordLengths, end)) found.add(index);
      }
    });
  }

  private report(found: Set<number>): TermMatch[] {
    return [...found]
      .sort((a, b) => a - b)
      .map((index) => {
        const term = this.terms[index];
        return { list: term.list, action: term.action, termId: term.termId };
      });
  }
}

/** Where the text's words lie in its compact form, to check a word-mode occurrence. */
class WordLayout {
  /** 1 at every position of the compact form where a word starts or the text ends. */
  private readonly boundary: Uint8Array;
  /** The word each position of the compact form belongs to. */
  private readonly wordAt: Int32Array;
  /** multiBefore[w]: how many of the first w words are longer than one character. */
  private readonly multiBefore: Int32Array;

  constructor(tokens: string[], length: number) {
    this.boundary = new Uint8Array(length + 1);
    this.wordAt = new Int32Array(length);
    this.multiBefore = new Int32Array(tokens.length + 1);
    let position = 0;
    tokens.forEach((token, w) => {
      this.boundary[position] = 1;
      this.wordAt.fill(w, position, position + token.length);
      position += token.length;
      const single = token.length === 1 || (token.length === 2 && token.codePointAt(0)! > 0xffff);
      this.multiBefore[w + 1] = this.multiBefore[w] + (single ? 0 : 1);
    });
    this.boundary[length] = 1;
  }

  /** Whether a term whose compact form ends just before `end` lines up with the text's words. */
  fits(wordLengths: number[], end: number): boolean {
    let start = end;
    for (const length of wordLengths) start -= length;
    for (const length of wordLengths) {
      const stop = start + length;
      if (!this.boundary[start] || !this.boundary[stop]) return false;
      const first = this.wordAt[start];
      const last = this.wordAt[stop - 1];
      // One whole word of the text, or several words of one character each (spelled out).
      if (first !== last && this.multiBefore[last + 1] - this.multiBefore[first] !== 0) return false;
      start = stop;
    }
    return true;
  }
}

/**
 * Aho-Corasick automaton over UTF-16 code units. Keys are distinct, so each node ends at
 * most one key; `link` chains a node to the longest proper suffix that ends a key.
 */
class Automaton {
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly key: number[] = [-1];
  private readonly fail: Int32Array;
  private readonly link: Int32Array;

  constructor(keys: string[]) {
    keys.forEach((text, k) => {
      let node = 0;
      for (let i = 0; i < text.length; i++) {
        const unit = text.charCodeAt(i);
        let child = this.next[node].get(unit);
        if (child === undefined) {
          child = this.next.push(new Map()) - 1;
          this.key.push(-1);
          this.next[node].set(unit, child);
        }
        node = child;
      }
      this.key[node] = k;
    });
    this.fail = new Int32Array(this.next.length);
    this.link = new Int32Array(this.next.length).fill(-1);
    // Breadth first, so a node's failure target is finished before the node is.
    const queue: number[] = [...this.next[0].values()];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head];
      for (const [unit, child] of this.next[node]) {
        let f = this.fail[node];
        while (f !== 0 && !this.next[f].has(unit)) f = this.fail[f];
        this.fail[child] = this.next[f].get(unit) ?? 0;
        const failNode = this.fail[child];
        this.link[child] = this.key[failNode] >= 0 ? failNode : this.link[failNode];
        queue.push(child);
      }
    }
  }

  /** Calls onKey(key index, end) for every occurrence of every key, end being one past its last unit. */
  scan(text: string, onKey: (key: number, end: number) => void): void {
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      let child = this.next[node].get(unit);
      while (child === undefined && node !== 0) {
        node = this.fail[node];
        child = this.next[node].get(unit);
      }
      node = child ?? 0;
      for (let hit = this.key[node] >= 0 ? node : this.link[node]; hit > 0; hit = this.link[hit]) onKey(this.key[hit], i + 1);
    }
  }
}
