import type { TermListService } from '../terms/term-lists.ts';
import { type TermAction, TermMatcher } from '../terms/term-matcher.ts';

export type SearchOutcome = 'allow' | 'interstitial' | 'block';

export interface SearchDecision {
  outcome: SearchOutcome;
  /**
   * Whether the platform may show results at all. A blocked query has no "see results
   * anyway": this is false and there is no override. An interstitial query's results may
   * follow only after the user has seen the help message.
   */
  showResults: boolean;
  /** Which lists matched (names and actions only: the matched words are not echoed back). */
  lists: { list: string; action: TermAction }[];
  message?: string;
}

export interface SearchMessages {
  interstitial: string;
  block: string;
}

export const DEFAULT_SEARCH_MESSAGES: SearchMessages = {
  interstitial:
    'Some results for this search may be linked to the abuse of children, which is illegal and causes severe harm. If you are worried about your own thoughts or behaviour, confidential help is available.',
  block:
    'This search is linked to the sexual abuse of children. Viewing, sharing or seeking such material is illegal. Confidential help is available if you are worried about your own thoughts or behaviour.',
};

const OUTCOME_BY_ACTION: Record<TermAction, SearchOutcome> = { block: 'block', interstitial: 'interstitial', signal: 'allow' };

/** Decides what the platform's search does with a query, by the operator's term lists. */
export class SearchGuardrail {
  constructor(private readonly terms: TermListService, private readonly messages: SearchMessages = DEFAULT_SEARCH_MESSAGES) {}

  async decide(query: string): Promise<SearchDecision> {
    const matcher = await this.terms.matcher();
    const matches = matcher.match(query);
    const lists = new Map<string, TermAction>();
    for (const match of matches) lists.set(match.list, match.action);
    const strictest = TermMatcher.strictest(matches);
    const outcome = strictest ? OUTCOME_BY_ACTION[strictest] : 'allow';
    return {
      outcome,
      showResults: outcome !== 'block',
      lists: [...lists].map(([list, action]) => ({ list, action })),
      ...(outcome === 'allow' ? {} : { message: this.messages[outcome] }),
    };
  }
}
