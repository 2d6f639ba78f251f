/**
 * A rule file for load tests and benchmarks: every match on one bank opens a critical case in
 * queue known-media, and with `remove` is also removed at once (a remove_content action, so a
 * webhook per match). The bank holds hashes of benign or random data.
 */
export function matchRuleFile(options: { bank: string; remove?: boolean }): string {
  return `version: 1
queues:
  - { name: known-media, description: Uploads that match bank ${options.bank}, sla_minutes: 60 }
policies:
  - { id: known-media, title: Known illegal media, legal_ground: "load test" }
rules:
  - id: ${options.remove ? 'match-remove' : 'match-review'}
    description: Every match on bank ${options.bank} is ${options.remove ? 'removed and ' : ''}reviewed
    on: content.matched
    when: { all: [{ fact: match.banks, contains_any: [${options.bank}] }] }
    then:
${options.remove ? '      actions: [remove_content]\n' : ''}      case: { queue: known-media, severity: critical, priority: 90 }
`;
}
