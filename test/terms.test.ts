import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeCompact, normalizeHashtag, normalizeTokens } from '../src/terms/normalize.ts';
import { type TermListInput, type TermMatch, TermMatcher } from '../src/terms/term-matcher.ts';

// Placeholder tokens only (term-alpha, zeta phrase, ...). Real term lists are the
// operator's, supplied at run time, and never belong in the repository.

const LISTS: TermListInput[] = [
  { name: 'blocked', action: 'block', terms: [{ id: 'b1', term: 'term-alpha' }, { id: 'b2', term: 'zeta phrase' }] },
  { name: 'warned', action: 'interstitial', terms: [{ id: 'w1', term: 'term bravo' }, { id: 'w2', term: 'alpha' }, { id: 'w3', term: 'term 2026' }] },
  { name: 'watched', action: 'signal', terms: [{ id: 's1', term: 'gamma', mode: 'substring' }, { id: 's2', term: 'term-17' }] },
];
const matcher = new TermMatcher(LISTS);

const ids = (matches: TermMatch[]) => matches.map((m) => m.termId).sort();
const has = (text: string, termId: string) => matcher.match(text).some((m) => m.termId === termId);

describe('normalizeTokens: each evasion family', () => {
  const cases: [string, string, string[]][] = [
    ['the documented example', 'Tèrm-Αlpha!!', ['term', 'alpha']],
    ['case', 'TERM-Alpha', ['term', 'alpha']],
    ['diacritics', 'tërm ālphå', ['term', 'alpha']],
    ['zero-width characters inside a word', 'te\u200Brm al\u200Cp\u200Dha\u200E', ['term', 'alpha']],
    ['word joiners, BOM, soft hyphen, variation selectors', 'ter\u00ADm\u2060 al\uFE0Fph\u2063a\uFEFF', ['term', 'alpha']],
    ['bidi controls, Hangul filler, tag characters', '\u202Ete\u3164rm al\u{E0070}pha\u2066', ['term', 'alpha']],
    ['Cyrillic look-alikes', '\u0442\u0435rm \u0430l\u0440h\u0430', ['term', 'alpha']],
    ['Greek look-alikes', 'τεrm αlρhα', ['term', 'alpha']],
    ['Greek and Cyrillic capitals', 'ΤΕRМ ΑLРНА', ['term', 'alpha']],
    ['fullwidth forms', 'ＴＥＲＭ－ａｌｐｈａ', ['term', 'alpha']],
    ['mathematical alphanumerics', '𝐭𝐞𝐫𝐦 𝒶𝓁𝓅𝒽𝒶', ['term', 'alpha']],
    ['leetspeak', 't3rm-4lph4', ['term', 'alpha']],
    ['leet symbols', '73rm 4lph@ zet4 phr4$e', ['term', 'alpha', 'zeta', 'phrase']],
    ['numbers stay numbers', 'in 2026, 100 times 3.5', ['in', '2026', '100', 'times', '3', '5']],
    ['separators', 'term_alpha.bravo-zeta~phrase/gamma', ['term', 'alpha', 'bravo', 'zeta', 'phrase', 'gamma']],
    ['letters spelled out stay single letters', 't.e.r.m', ['t', 'e', 'r', 'm']],
  ];
  for (const [name, input, expected] of cases) it(name, () => assert.deepEqual(normalizeTokens(input), expected));
});

describe('normalizeCompact and normalizeHashtag', () => {
  it('remove every separator', () => {
    assert.equal(normalizeCompact('t.e.r.m a l p h a'), 'termalpha');
    assert.equal(normalizeCompact('T-E-R-M'), 'term');
    assert.equal(normalizeCompact('in 2026'), 'in2026');
    assert.equal(normalizeCompact('...'), '');
  });

  it('normalise hashtags', () => {
    assert.equal(normalizeHashtag('#Term_Alpha'), 'termalpha');
    assert.equal(normalizeHashtag('＃ＴｅｒｍＡｌｐｈａ'), 'termalpha');
    assert.equal(normalizeHashtag('##t3rm-4lph4'), 'termalpha');
    assert.equal(normalizeHashtag('#'), '');
  });
});

// Letters from several scripts (with the case-folding oddities: final sigma, iota
// subscript, sharp s, dotted capital I), digits, leet symbols and separators.
const ALPHABET = [...'abcdeilmoprstzAEIMT', ...'éÅñ', ...'ΑΗΜΣσςτρᾳ', ...'атерсМ', ...'ßẞİı', ...'ｔｅＲ', ...'0134@$!|', ...' -._#'];
const INVISIBLE = ['\u200B', '\u200C', '\u200D', '\u200E', '\u200F', '\u2060', '\u2063', '\uFEFF', '\u00AD', '\uFE0F', '\u180E', '\u3164', '\u{E0041}'];
const textChars = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 40 });
const noise = fc.record({
  insertions: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INVISIBLE)), { maxLength: 8 }),
  caseFlips: fc.array(fc.constantFrom('upper', 'lower', 'keep'), { maxLength: 40 }),
});

function disguise(chars: string[], { insertions, caseFlips }: { insertions: [number, string][]; caseFlips: string[] }): string {
  const out = chars.map((char, i) => (caseFlips[i] === 'upper' ? char.toUpperCase() : caseFlips[i] === 'lower' ? char.toLowerCase() : char));
  for (const [at, char] of insertions) out.splice(at % (out.length + 1), 0, char);
  return out.join('');
}

describe('invariance (fast-check)', () => {
  it('inserting invisible characters or changing case never changes normalizeCompact', () => {
    fc.assert(
      fc.property(textChars, noise, (chars, change) => {
        assert.equal(normalizeCompact(disguise(chars, change)), normalizeCompact(chars.join('')));
      }),
      { numRuns: 2000 },
    );
  });

  it('nor what the matcher finds', () => {
    const words = fc.constantFrom('term', 'alpha', 'bravo', 'zeta', 'phrase', 'gamma', 't3rm', '4lph4', '2026', '17', 'x', 'a l p h a', 't.e.r.m');
    const text = fc.array(fc.tuple(words, fc.constantFrom(' ', '-', '_', '', '. ')), { maxLength: 8 }).map((parts) => [...parts.flat().join('')]);
    fc.assert(
      fc.property(text, noise, (chars, change) => {
        assert.deepEqual(matcher.match(disguise(chars, change)), matcher.match(chars.join('')));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('TermMatcher', () => {
  it('matches a word-mode term through every evasion family', () => {
    const disguised = [
      'TERM ALPHA',
      'tèrm-ålphä',
      'te\u200Brm al\u200Dpha',
      '\u0442\u0435rm \u0430lph\u0430',
      'τεrm αlρhα',
      'ΤΕRΜ ΑLΡΗΑ', // Greek capital mu and eta, whose small letters look like u and n
      'ｔｅｒｍ ａｌｐｈａ',
      't3rm-4lph4',
      'term_alpha',
      't.e.r.m a.l.p.h.a',
      't e r m a l p h a',
      't 3 r m 4 l p h 4',
      'term a-l-p-h-a',
      'x!term-alpha',
    ];
    for (const text of disguised) assert.ok(has(text, 'b1'), JSON.stringify(text));
    assert.deepEqual(ids(matcher.match('a zeta   PHRASE here')), ['b2']);
  });

  // Decision: word mode respects word boundaries wherever the text has them, so a term is
  // not found inside a longer word, nor with its letters regrouped into other words. Text
  // spelled out letter by letter has no boundaries left, so there a term may start or end
  // anywhere in the run. Substring mode is for terms that must be found inside words.
  it('does not match word-mode terms inside other words or regrouped', () => {
    for (const text of ['termalphabet soup', 'alphabets', 'termalpha', 'ter malpha', 'zetaphrase', 'zeta-phrases']) {
      assert.deepEqual(matcher.match(text), [], text);
    }
    assert.deepEqual(ids(matcher.match('te rm alpha')), ['w2'], 'a split word is not the word');
    assert.deepEqual(ids(matcher.match('the term, then bravo')), []);
    assert.deepEqual(ids(matcher.match('the term, then alpha')), ['w2'], 'words apart are not the sequence');
    assert.deepEqual(ids(matcher.match('a l p h a b e t')), ['w2'], 'a spelled-out run has no word boundaries');
  });

  it('keeps numbers as numbers, so a term with a number needs that number as a word', () => {
    assert.deepEqual(ids(matcher.match('Term 2026!')), ['w3']);
    assert.deepEqual(ids(matcher.match('term 2027')), []);
    assert.deepEqual(ids(matcher.match('term2026')), [], 'digits glued to letters are read as leet');
    assert.deepEqual(ids(matcher.match('TERM-17')), ['s2']);
  });

  it('matches substring-mode terms anywhere in the compact text', () => {
    for (const text of ['megammas', 'ga mma', 'g.a.m.m.a', 'G4MMA', 'ɡαmmα']) assert.deepEqual(ids(matcher.match(text)), ['s1'], text);
  });

  it('reports every list that matched, in list and term order, and the strictest action', () => {
    const matches = matcher.match('gamma, term bravo, then term alpha');
    assert.deepEqual(
      matches.map((m) => `${m.list}:${m.termId}:${m.action}`),
      ['blocked:b1:block', 'warned:w1:interstitial', 'warned:w2:interstitial', 'watched:s1:signal'],
    );
    assert.equal(TermMatcher.strictest(matches), 'block');
    assert.equal(TermMatcher.strictest(matcher.match('term bravo and gamma')), 'interstitial');
    assert.equal(TermMatcher.strictest(matcher.match('gamma')), 'signal');
    assert.equal(TermMatcher.strictest(matcher.match('nothing here')), undefined);
    assert.equal(TermMatcher.strictest([]), undefined);
  });

  it('reports the same term id in two lists once per list', () => {
    const twice = new TermMatcher([
      { name: 'one', action: 'signal', terms: [{ id: 't', term: 'zeta phrase' }] },
      { name: 'two', action: 'block', terms: [{ id: 't', term: 'ZETA-PHRASE' }] },
    ]);
    assert.deepEqual(twice.match('zeta phrase, zeta phrase'), [
      { list: 'one', action: 'signal', termId: 't' },
      { list: 'two', action: 'block', termId: 't' },
    ]);
  });

  it('matches hashtags by their compact form, or substring-mode terms inside them', () => {
    assert.deepEqual(ids(matcher.matchHashtag('#TermAlpha')), ['b1']);
    assert.deepEqual(ids(matcher.matchHashtag('#term_alpha')), ['b1']);
    assert.deepEqual(ids(matcher.matchHashtag('#T3RM4LPH4')), ['b1']);
    assert.deepEqual(ids(matcher.matchHashtag('＃ｚｅｔａｐｈｒａｓｅ')), ['b2']);
    assert.deepEqual(ids(matcher.matchHashtag('#alpha')), ['w2']);
    assert.deepEqual(ids(matcher.matchHashtag('#termalphabet')), [], 'a word-mode term must be the whole tag');
    assert.deepEqual(ids(matcher.matchHashtag('#omegamma')), ['s1']);
    assert.deepEqual(ids(matcher.matchHashtag('#term17')), ['s2'], 'digits in a tag may be a number');
    assert.deepEqual(ids(matcher.matchHashtag('#term_2026')), ['w3']);
    assert.deepEqual(matcher.matchHashtag('#'), []);
  });

  it('refuses invalid lists with a message naming the list and term id, never the term', () => {
    const refuse = (lists: TermListInput[], message: RegExp) =>
      assert.throws(() => new TermMatcher(lists), (error: Error) => {
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /zeta|phrase/);
        return true;
      });
    refuse([{ name: 'x', action: 'block', terms: [{ id: 't', term: '!! ... !!' }] }], /term list x: term t is empty after normalisation/);
    refuse([{ name: 'x', action: 'block', terms: [{ id: 't', term: '\u200B\u00AD' }] }], /term list x: term t is empty/);
    refuse([{ name: 'x', action: 'block', terms: [{ id: 't', term: 'zeta' }, { id: 't', term: 'phrase' }] }], /term list x: term id t is used twice/);
    refuse([{ name: 'ok', action: 'block', terms: [] }, { name: '', action: 'block', terms: [{ id: 't', term: 'zeta phrase' }] }], /term list at position 2 needs a name/);
    refuse([{ name: 'x', action: 'block', terms: [] }, { name: 'x', action: 'signal', terms: [] }], /term list x: the name is used by more than one list/);
    refuse([{ name: 'x', action: 'block', terms: [{ id: '', term: 'zeta phrase' }] }], /term list x: term at position 1 needs an id/);
    refuse([{ name: 'x', action: 'warn' as never, terms: [] }], /term list x: action/);
    refuse([{ name: 'x', action: 'block', terms: [{ id: 't', term: 'zeta phrase', mode: 'regex' as never }] }], /term list x: term t has a mode/);
  });

  it('agrees with a naive reference on random word-mode and substring-mode terms', () => {
    // Over a two-letter alphabet, so terms and texts overlap often. The reference follows
    // the documented rule: each word of the term is one whole word of the text or is
    // spelled out one letter per word.
    const word = fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 1, maxLength: 4 });
    const term = fc.record({ words: fc.array(word, { minLength: 1, maxLength: 3 }), substring: fc.boolean() });
    const text = fc.array(word, { maxLength: 12 }).map((words) => words.join(' '));
    const wordMatch = (tokens: string[], words: string[]) =>
      tokens.some((_, start) => {
        let k = start;
        for (const w of words) {
          if (tokens[k] === w) k++;
          else if (tokens.slice(k, k + w.length).join('') === w && tokens.slice(k, k + w.length).every((t) => t.length === 1)) k += w.length;
          else return false;
        }
        return true;
      });
    fc.assert(
      fc.property(fc.array(term, { minLength: 1, maxLength: 6 }), text, (terms, sample) => {
        const m = new TermMatcher([{ name: 'r', action: 'signal', terms: terms.map((t, i) => ({ id: `t${i}`, term: t.words.join(' '), mode: t.substring ? 'substring' : 'word' })) }]);
        const tokens = normalizeTokens(sample);
        const expected = terms.flatMap((t, i) => ((t.substring ? tokens.join('').includes(t.words.join('')) : wordMatch(tokens, t.words)) ? [`t${i}`] : []));
        assert.deepEqual(m.match(sample).map((x) => x.termId), expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('builds and matches 5,000 generated placeholder terms', () => {
    const terms = Array.from({ length: 5000 }, (_, n) => ({ id: `t${n}`, term: `term-${n}` }));
    const many = new TermMatcher([{ name: 'many', action: 'signal', terms }]);
    assert.equal(many.termCount, 5000);
    for (let n = 0; n < 5000; n++) assert.deepEqual(ids(many.match(`noise TERM-${n}, noise`)), [`t${n}`], `term-${n}`);
    assert.deepEqual(ids(many.match('term 4321 then t.e.r.m 17 then term 5000 then term')), ['t17', 't4321']);
    assert.deepEqual(ids(many.match('term4321 term-x 4321')), []);
    assert.deepEqual(ids(many.matchHashtag('#Term_4321')), ['t4321']);
    assert.deepEqual(ids(many.matchHashtag('#term4321')), ['t4321']);
  });
});
