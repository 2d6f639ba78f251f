/**
 * Text normalisation that undoes the usual ways of dodging a term list: letter case,
 * accents, invisible characters, look-alike letters from other scripts, digits and symbols
 * standing in for letters, and separators between letters.
 */

// Zero-width and other invisible characters, bidirectional controls, soft hyphen, variation selectors.
const INVISIBLE = /[\u00AD\u034F\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\uFE00-\uFE0F]/g;
const COMBINING_MARKS = /\p{M}/gu;

/** Look-alike letters (after Unicode's confusables data) mapped to the Latin letters they imitate. */
const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ү: 'y', ӏ: 'l', г: 'r', п: 'n', ь: 'b',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  γ: 'y', μ: 'u', ϲ: 'c', ϳ: 'j', ς: 'c', σ: 'o', δ: 'd', ζ: 'z', λ: 'l', π: 'n', θ: 'o', φ: 'o',
  // Latin letters from other blocks
  ı: 'i', ȷ: 'j', ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ŀ: 'l', ɑ: 'a', ɒ: 'a', ɛ: 'e', ɩ: 'i', ɪ: 'i', ɡ: 'g',
  ɴ: 'n', ʀ: 'r', ʙ: 'b', ʏ: 'y', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ᴋ: 'k', ᴍ: 'm', ᴏ: 'o', ᴘ: 'p', ᴛ: 't', ᴜ: 'u',
  ᴠ: 'v', ᴡ: 'w', ᴢ: 'z', ß: 'ss', æ: 'ae', œ: 'oe', þ: 'th',
  // Armenian and Cherokee letters that pass for Latin ones
  օ: 'o', ս: 'u', ց: 'g', ո: 'n', հ: 'h', ꭺ: 'a', ꭼ: 'e', ꮋ: 'h', ꭲ: 't', ꮇ: 'm',
};

/** Digits and symbols that stand in for letters inside a word that also has letters. */
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g', '@': 'a', $: 's', '!': 'i', '|': 'l' };

function fold(text: string): string {
  const folded = text.normalize('NFKC').toLowerCase().replace(INVISIBLE, '').normalize('NFD').replace(COMBINING_MARKS, '').normalize('NFC');
  let mapped = '';
  for (const char of folded) mapped += CONFUSABLES[char] ?? char;
  return mapped;
}

const LETTER = /\p{L}/u;

/** Words after normalisation, e.g. "Tèrm-Αlpha!!" -> ["term", "alpha"], "t3rm-4lph4" -> ["term", "alpha"]. */
export function normalizeTokens(text: string): string[] {
  const tokens: string[] = [];
  // A chunk is a run of letters, digits and leet symbols. Symbols at its edges are
  // punctuation ("alpha!!", "@name"); inside a chunk that has letters, digits and symbols
  // are letters in disguise, while a chunk without letters ("2026") stays a number.
  for (const raw of fold(text).split(/[^\p{L}\p{N}@$!|]+/u)) {
    const chunk = raw.replace(/^[@!|]+|[!|]+$/g, '');
    if (chunk === '') continue;
    const hasLetter = LETTER.test(chunk);
    let word = '';
    for (const char of chunk) {
      const letter = hasLetter ? LEET[char] : undefined;
      if (letter !== undefined) word += letter;
      else if (/[\p{L}\p{N}]/u.test(char)) word += char;
      else {
        if (word) tokens.push(word);
        word = '';
      }
    }
    if (word) tokens.push(word);
  }
  return tokens;
}

/** Normalised text with every separator removed, e.g. "t.e.r.m a l p h a" -> "termalpha". */
export function normalizeCompact(text: string): string {
  return normalizeTokens(text).join('');
}

/** Hashtag normalisation: "#Term_Alpha" -> "termalpha". */
export function normalizeHashtag(tag: string): string {
  return normalizeCompact(tag.replace(/^[#\uFF03]+/, ''));
}
