/**
 * Text normalisation that undoes the usual ways of dodging a term list: letter case,
 * accents, invisible characters, look-alike letters from other scripts, digits and symbols
 * standing in for letters, and separators between letters. Terms and texts go through the
 * same steps, so a term is compared with the text in one canonical spelling.
 */

// Format characters and default-ignorable code points (zero-width spaces and joiners, bidi
// controls, soft hyphen, variation selectors, Hangul fillers, tag characters) render as
// nothing, so they are deleted rather than read as separators: a word with one hidden
// inside it stays one word.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const MARKS = /\p{M}/gu;

/**
 * Look-alike letters mapped to the Latin letter they imitate, after Unicode's confusables
 * data (UTS #39). Keys are compared after case folding, so each entry covers both cases
 * whenever the capital folds to a letter of the same shape. Letters that decompose under
 * NFD are absent: their marks are stripped first and the base letter is mapped.
 */
const LOOKALIKE_PAIRS: readonly (readonly [string, string])[] = [
  // Cyrillic. в, к, м, н, т are small-capital shapes of b, k, m, h, t.
  ['а', 'a'], ['в', 'b'], ['г', 'r'], ['е', 'e'], ['к', 'k'], ['м', 'm'], ['н', 'h'], ['о', 'o'],
  ['п', 'n'], ['р', 'p'], ['с', 'c'], ['т', 't'], ['у', 'y'], ['х', 'x'], ['ь', 'b'], ['ѕ', 's'],
  ['і', 'i'], ['ј', 'j'], ['һ', 'h'], ['ԁ', 'd'], ['ԛ', 'q'], ['ԝ', 'w'], ['ѡ', 'w'], ['ѵ', 'v'],
  ['ү', 'y'], ['ҽ', 'e'], ['ӏ', 'i'], ['ԍ', 'g'], ['ҫ', 'c'], ['ӕ', 'ae'],
  // Greek. Capitals fold onto these, so Κ, Ρ, Τ, Χ, Ζ... are covered too.
  ['α', 'a'], ['β', 'b'], ['γ', 'y'], ['ε', 'e'], ['ζ', 'z'], ['η', 'n'], ['ι', 'i'], ['κ', 'k'],
  ['μ', 'u'], ['ν', 'v'], ['ο', 'o'], ['ρ', 'p'], ['σ', 'o'], ['τ', 't'], ['υ', 'u'], ['χ', 'x'],
  ['ω', 'w'], ['ϲ', 'c'], ['ϳ', 'j'],
  // Armenian.
  ['հ', 'h'], ['ո', 'n'], ['ռ', 'n'], ['ս', 'u'], ['ց', 'g'], ['ք', 'f'], ['օ', 'o'], ['զ', 'q'], ['գ', 'q'],
  // Cherokee, written as capitals; they fold to the small letters that case folding produces.
  ['Ꭰ', 'd'], ['Ꭱ', 'r'], ['Ꭲ', 't'], ['Ꭵ', 'i'], ['Ꭹ', 'y'], ['Ꭺ', 'a'], ['Ꭻ', 'j'], ['Ꭼ', 'e'],
  ['Ꮃ', 'w'], ['Ꮇ', 'm'], ['Ꮋ', 'h'], ['Ꮍ', 'y'], ['Ꮐ', 'g'], ['Ꮒ', 'h'], ['Ꮓ', 'z'], ['Ꮟ', 'b'],
  ['Ꮢ', 'r'], ['Ꮤ', 'w'], ['Ꮥ', 's'], ['Ꮩ', 'v'], ['Ꮪ', 's'], ['Ꮮ', 'l'], ['Ꮯ', 'c'], ['Ꮲ', 'p'],
  ['Ꮶ', 'k'], ['Ꮷ', 'd'], ['Ᏻ', 'g'], ['Ᏼ', 'b'],
  // Latin small capitals and other Latin letters with no decomposition to a plain letter.
  ['ᴀ', 'a'], ['ʙ', 'b'], ['ᴄ', 'c'], ['ᴅ', 'd'], ['ᴇ', 'e'], ['ɢ', 'g'], ['ʜ', 'h'], ['ɪ', 'i'],
  ['ᴊ', 'j'], ['ᴋ', 'k'], ['ʟ', 'l'], ['ᴍ', 'm'], ['ɴ', 'n'], ['ᴏ', 'o'], ['ᴘ', 'p'], ['ʀ', 'r'],
  ['ᴛ', 't'], ['ᴜ', 'u'], ['ᴠ', 'v'], ['ᴡ', 'w'], ['ʏ', 'y'], ['ᴢ', 'z'], ['ɑ', 'a'], ['ɡ', 'g'],
  ['ɣ', 'y'], ['ɩ', 'i'], ['ɯ', 'w'], ['ʋ', 'u'], ['ƽ', 's'], ['ǀ', 'l'], ['ȷ', 'j'], ['ɛ', 'e'],
  ['ł', 'l'], ['ø', 'o'], ['đ', 'd'], ['ħ', 'h'], ['ƀ', 'b'], ['ɨ', 'i'], ['ʉ', 'u'], ['ɵ', 'o'],
  ['ǥ', 'g'], ['ȼ', 'c'], ['ɍ', 'r'], ['ŧ', 't'], ['ɏ', 'y'], ['ƶ', 'z'], ['ɇ', 'e'], ['æ', 'ae'],
  ['œ', 'oe'],
];

/**
 * Capitals whose small letter has another shape (Greek Η, Μ, Ν, Υ look like H, M, N, Y;
 * η, μ, ν, υ like n, u, v, u). Case folding has to pick one reading for the pair, so the
 * matcher also tries a second reading with these capitals taken at face value.
 */
const CAPITAL_PAIRS: readonly (readonly [string, string])[] = [
  ['Η', 'h'], ['Μ', 'm'], ['Ν', 'n'], ['Υ', 'y'], ['Տ', 's'],
];

/** Digits and symbols that stand in for letters inside a word that also has letters. */
const LEET: Readonly<Record<string, string>> = {
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g', '@': 'a', $: 's', '!': 'i', '|': 'l',
};

function foldCase(text: string): string {
  // Upper then lower case is full case folding for what matters here (ß -> ss, the Greek
  // iota subscript -> ι). Two leftovers: capital ẞ lower-cases to ß, and final sigma, the
  // one context-dependent lower case, becomes plain σ so that neighbours cannot change it.
  return text.toUpperCase().toLowerCase().replace(/ß/g, 'ss').replace(/ς/g, 'σ');
}

const LOOKALIKES = new Map<string, string>();
for (const [from, to] of LOOKALIKE_PAIRS) LOOKALIKES.set(foldCase(from), to);
const LOOKALIKE = new RegExp(`[${[...LOOKALIKES.keys()].join('')}]`, 'gu');
const CAPITALS = new Map<string, string>(CAPITAL_PAIRS);
const CAPITAL = new RegExp(`[${[...CAPITALS.keys()].join('')}]`, 'gu');
const HAS_CAPITAL = new RegExp(CAPITAL.source, 'u');

const CHUNK = /[\p{L}\p{N}@$!|]+/gu;
const PLAIN_CHUNK = /[\p{L}\p{N}]+/gu;
const SYMBOL_INSIDE = /[\p{L}\p{N}][@$!|]+[\p{L}\p{N}]/u;
// '@' opening a chunk marks a mention, '!' and '|' around a word are punctuation; '$' may
// open a word ("$eta") and '@' may close one ("4lph@").
const CHUNK_EDGES = /^[@!|]+|[!|]+$/g;
const SYMBOLS = /[@$!|]+/;
const HAS_LETTER = /\p{L}/u;
const ASCII_DIGIT = /^[0-9]$/;

// NFKC turns the lunate sigmas, which look like c, into σ and Σ, which do not.
const BEFORE_NFKC = /[\u03F2\u03F9]/g;

/** NFKC (fullwidth and mathematical letters, ligatures), then invisible characters out. */
function prepare(text: string): string {
  return text.replace(BEFORE_NFKC, 'c').normalize('NFKC').replace(INVISIBLE, '').normalize('NFD');
}

/** Case folded, marks stripped, look-alikes mapped. `capitals`: read CAPITAL_PAIRS by their capital shape. */
function fold(prepared: string, capitals: boolean): string {
  const text = capitals ? prepared.replace(CAPITAL, (char) => CAPITALS.get(char) ?? char) : prepared;
  return foldCase(text).normalize('NFD').replace(MARKS, '').normalize('NFC').replace(LOOKALIKE, (char) => LOOKALIKES.get(char) ?? char);
}

interface TokenizeOptions {
  /** Read digits inside words as letters ("t3rm"); off, they stay digits ("term17"). */
  digits: boolean;
  /** Read @ $ ! | inside words as letters ("4lph@"); off, they separate words ("x!term"). */
  symbols: boolean;
}

const LEET_READING: TokenizeOptions = { digits: true, symbols: true };

function tokenize(folded: string, options: TokenizeOptions = LEET_READING): string[] {
  const tokens: string[] = [];
  for (const [raw] of folded.matchAll(options.symbols ? CHUNK : PLAIN_CHUNK)) {
    const chunk = raw.replace(CHUNK_EDGES, '');
    if (chunk === '') continue;
    if (HAS_LETTER.test(chunk)) {
      let word = '';
      for (const char of chunk) word += options.digits || !ASCII_DIGIT.test(char) ? LEET[char] ?? char : char;
      tokens.push(word);
    } else {
      // Without letters the chunk is a number ("2026"), and symbols inside it separate.
      for (const part of chunk.split(SYMBOLS)) if (part !== '') tokens.push(part);
    }
  }
  return tokens;
}

function isSingle(token: string): boolean {
  return token.length === 1 || (token.length === 2 && token.codePointAt(0)! > 0xffff);
}

/**
 * A word spelled out one character at a time ("t 3 r m") has its digits as separate
 * tokens, which have no letters and so stay digits. Within a run of single-character
 * tokens holding at least two letters, this reads the digits as the letters they imitate.
 * Returns the same array when nothing changes.
 */
function spelledDigitsAsLetters(tokens: string[]): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < tokens.length; ) {
    if (!isSingle(tokens[i])) {
      i++;
      continue;
    }
    let end = i;
    let letters = 0;
    for (; end < tokens.length && isSingle(tokens[end]); end++) if (HAS_LETTER.test(tokens[end])) letters++;
    if (letters >= 2) {
      for (let k = i; k < end; k++) {
        if (ASCII_DIGIT.test(tokens[k]) && LEET[tokens[k]] !== undefined) (out ??= tokens.slice())[k] = LEET[tokens[k]];
      }
    }
    i = end;
  }
  return out ?? tokens;
}

/** Words after normalisation, e.g. "Tèrm-Αlpha!!" -> ["term", "alpha"], "t3rm-4lph4" -> ["term", "alpha"], "in 2026" -> ["in", "2026"]. */
export function normalizeTokens(text: string): string[] {
  return tokenize(fold(prepare(text), false));
}

/** Normalised text with every separator removed, e.g. "t.e.r.m a l p h a" -> "termalpha". */
export function normalizeCompact(text: string): string {
  return normalizeTokens(text).join('');
}

/** Hashtag normalisation: strip leading '#', normalise, remove separators: "#Term_Alpha" -> "termalpha". */
export function normalizeHashtag(tag: string): string {
  return normalizeCompact(tag.normalize('NFKC').replace(/^#+/, ''));
}

/**
 * Every reading of the text the term matcher tries: normalizeTokens' own, plus, only where
 * they differ from it, digits in spelled-out runs read as letters ("t 3 r m"), @ $ ! |
 * inside a word read as separators rather than letters ("x!term"), and the Greek and
 * Armenian capitals of CAPITAL_PAIRS read by their capital shape. Readings only ever add
 * matches, so an ambiguous character costs another pass instead of a missed term.
 */
export function textReadings(text: string): string[][] {
  const readings: string[][] = [];
  const seen = new Set<string>();
  const add = (tokens: string[]) => {
    const key = tokens.join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      readings.push(tokens);
    }
  };
  for (const folded of folds(text)) {
    const tokens = tokenize(folded);
    add(tokens);
    add(spelledDigitsAsLetters(tokens));
    if (SYMBOL_INSIDE.test(folded)) {
      const separated = tokenize(folded, { digits: true, symbols: false });
      add(separated);
      add(spelledDigitsAsLetters(separated));
    }
  }
  return readings;
}

/**
 * Every compact reading of a hashtag: normalizeHashtag's own first, then those of
 * textReadings, and one with digits kept as digits, because a tag has no separators to
 * tell "#term17" (a word and a number) from a word with leet digits in it.
 */
export function hashtagReadings(tag: string): string[] {
  const readings = new Set<string>();
  for (const folded of folds(tag.normalize('NFKC').replace(/^#+/, ''))) {
    const tokens = tokenize(folded);
    readings.add(tokens.join(''));
    readings.add(spelledDigitsAsLetters(tokens).join(''));
    readings.add(tokenize(folded, { digits: false, symbols: true }).join(''));
    readings.add(tokenize(folded, { digits: true, symbols: false }).join(''));
  }
  readings.delete('');
  return [...readings];
}

function folds(text: string): string[] {
  const prepared = prepare(text);
  return HAS_CAPITAL.test(prepared) ? [fold(prepared, false), fold(prepared, true)] : [fold(prepared, false)];
}
