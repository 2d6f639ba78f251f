import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeCompact, normalizeHashtag, normalizeTokens } from '../src/terms/normalize.ts';
import { TermMatcher } from '../src/terms/term-matcher.ts';

// Placeholder tokens only: term lists are the operator's, supplied at run time.
const lists = () =>
  new TermMatcher([
    { name: 'blocked', action: 'block', terms: [{ id: 'b1', term: 'term-alpha' }, { id: 'b2', term: 'zeta phrase' }] },
    { name: 'warned', action: 'interstitial', terms: [{ id: 'w1', term: 'term bravo' }, { id: 'w2', term: 'alpha' }] },
    { name: 'watched', action: 'signal', terms: [{ id: 's1', term: 'gamma', mode: 'substring' }] },
  ]);

describe('normalisation', () => {
  const cases: [string, string, string[]][] = [
    ['case', 'TERM Alpha', ['term', 'alpha']],
    ['diacritics', 'tèrm ālphä', ['term', 'alpha']],
    ['zero-width characters inside a word', 'te\u200brm al\u200dpha\ufeff', ['term', 'alpha']],
    ['soft hyphen and variation selectors', 'ter\u00adm alpha\ufe0f', ['term', 'alpha']],
    ['Cyrillic look-alikes', 'тегм аlрhа', ['term', 'alpha']],
    ['Greek look-alikes', 'τerm αlρhα', ['term', 'alpha']],
    ['fullwidth forms', 'ｔｅｒｍ ａｌｐｈａ', ['term', 'alpha']],
    ['mathematical letters', '𝐭𝐞𝐫𝐦 𝒂𝒍𝒑𝒉𝒂', ['term', 'alpha']],
    ['leetspeak', 't3rm-4lph4', ['term', 'alpha']],
    ['leet symbols inside a word (a leading @ is a mention)', '4lph@ $eta @user', ['alpha', 'seta', 'user']],
    ['punctuation at the edges is not a letter', 'alpha!! @term', ['alpha', 'term']],
    ['numbers stay numbers', 'in 2026, 100 times', ['in', '2026', '100', 'times']],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(normalizeTokens(input), expected));
  }

  it('compacts separators and hashtags', () => {
    assert.equal(normalizeCompact('t.e.r.m a l p h a'), 'termalpha');
    assert.equal(normalizeCompact('t_e-r~m'), 'term');
    assert.equal(normalizeHashtag('#Term_Alpha'), 'termalpha');
    assert.equal(normalizeHashtag('＃ＴｅｒｍＡｌｐｈａ'), 'termalpha');
    assert.equal(normalizeHashtag('#'), '');
  });

  it('is unchanged by inserted invisible characters and by case', () => {
    const invisible = fc.constantFrom('\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad');
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'abcdefghij -.'), maxLength: 30 }), fc.array(fc.tuple(fc.nat(), invisible), { maxLength: 5 }), (text, insertions) => {
        let noisy = text;
        for (const [at, char] of insertions) {
          const i = at % (noisy.length + 1);
          noisy = noisy.slice(0, i) + char + noisy.slice(i);
        }
        assert.equal(normalizeCompact(noisy.toUpperCase()), normalizeCompact(text));
      }),
    );
  });
});

describe('term matching', () => {
  it('matches whole words and word sequences across evasions', () => {
    const matcher = lists();
    for (const text of ['TERM-ALPHA', 'look: t3rm 4lph4!', 'term_alpha', 't.e.r.m.a.l.p.h.a', 't e r m a l p h a', 'тегм аlрhа']) {
      assert.ok(matcher.match(text).some((m) => m.termId === 'b1'), text);
    }
    assert.deepEqual(matcher.match('a zeta   PHRASE here').map((m) => m.termId), ['b2']);
  });

  it('does not match word-mode terms inside other words', () => {
    const matcher = lists();
    assert.deepEqual(matcher.match('termalphabet soup'), []);
    assert.deepEqual(matcher.match('alphabet'), []);
    assert.deepEqual(matcher.match('the term, then alpha').map((m) => m.termId), ['w2'], 'words apart are not the sequence');
  });

  it('matches substring-mode terms anywhere', () => {
    assert.deepEqual(lists().match('megammas').map((m) => m.termId), ['s1']);
  });

  it('reports every list that matched and the strictest action', () => {
    const matches = lists().match('term alpha and term bravo');
    assert.deepEqual(matches.map((m) => `${m.list}:${m.termId}`).sort(), ['blocked:b1', 'warned:w1', 'warned:w2']);
    assert.equal(TermMatcher.strictest(matches), 'block');
    assert.equal(TermMatcher.strictest(lists().match('term bravo')), 'interstitial');
    assert.equal(TermMatcher.strictest([]), undefined);
  });

  it('matches hashtags by their compact form', () => {
    const matcher = lists();
    assert.deepEqual(matcher.matchHashtag('#TermAlpha').map((m) => m.termId), ['b1']);
    assert.deepEqual(matcher.matchHashtag('#t3rm_alpha').map((m) => m.termId), ['b1']);
    assert.deepEqual(matcher.matchHashtag('#termalphabet'), []);
    assert.deepEqual(matcher.matchHashtag('#omegamma').map((m) => m.termId), ['s1']);
  });

  it('refuses empty terms, duplicate ids and unnamed lists, naming the list and term', () => {
    assert.throws(() => new TermMatcher([{ name: 'x', action: 'block', terms: [{ id: 't', term: '!!' }] }]), /term list x: term t is empty/);
    assert.throws(() => new TermMatcher([{ name: 'x', action: 'block', terms: [{ id: 't', term: 'a1' }, { id: 't', term: 'b2' }] }]), /term id t is used twice/);
    assert.throws(() => new TermMatcher([{ name: '', action: 'block', terms: [] }]), /needs a name/);
  });

  it('scales to thousands of terms', () => {
    const terms = Array.from({ length: 5000 }, (_, i) => ({ id: `t${i}`, term: `term-${i} marker` }));
    const matcher = new TermMatcher([{ name: 'many', action: 'signal', terms }]);
    assert.equal(matcher.termCount, 5000);
    assert.deepEqual(matcher.match('noise term 4321 marker noise term 17 marker').map((m) => m.termId).sort(), ['t17', 't4321']);
    assert.deepEqual(matcher.match('term 4321 maker'), []);
  });
});
