/**
 * The rules stage: operators declare in a file which combinations of signals open a review
 * case and which fire enforcement actions; this module loads such files, gathers the facts
 * of domain events, and says which rules fire.
 */
export * from './types.ts';
export { parseRuleFile, loadRuleFile, formatPath } from './parse.ts';
export { evaluateRules } from './evaluate.ts';
export { RuleEngine } from './engine.ts';
export { OPERATORS, OPERATOR_NAMES, type OperatorDefinition } from './operators.ts';
export { FactProviderRegistry, defaultFactProviders } from './facts/registry.ts';
export { SqlFactLookup } from './facts/sql-lookup.ts';
export { ACCOUNT_FACTS, EVENT_FACTS } from './facts/common.ts';
export { ContentMatchedFacts } from './facts/content-matched.ts';
export { NetworkDetectedFacts } from './facts/network-detected.ts';
export { EvasionSuspectedFacts } from './facts/evasion-suspected.ts';
export { TermMatchedFacts, TERM_MATCHED_EVENT } from './facts/term-matched.ts';
export { ReportReceivedFacts, REPORT_RECEIVED_EVENT } from './facts/report-received.ts';
