import { z } from 'zod';
import type { DomainEvent } from '../../events/event-log.ts';
import { NETWORK_DETECTED_EVENT } from '../../graph/detection-service.ts';
import type { FactLookup, FactProvider, FactSpec, RuleEvent } from '../types.ts';
import { EVENT_FACTS, parsePayload, ruleEvent, subjectOf } from './common.ts';

const payloadSchema = z.object({
  network_id: z.number().int(),
  summary: z.object({ size: z.number(), sellers: z.number(), buyers: z.number() }),
});

/**
 * Network detection found a network (emitted once per network per run). Size, roles and the
 * minors contacted are as the run found and stored them; labels and risk are read from the
 * store as they are now.
 */
export class NetworkDetectedFacts implements FactProvider {
  readonly eventType = NETWORK_DETECTED_EVENT;
  readonly facts: readonly FactSpec[] = [
    ...EVENT_FACTS,
    { name: 'network.id', type: 'number', description: 'the network’s id' },
    { name: 'network.size', type: 'number', description: 'members' },
    { name: 'network.sellers', type: 'number', description: 'members in the seller role' },
    { name: 'network.buyers', type: 'number', description: 'members in the buyer role' },
    { name: 'network.confirmed_members', type: 'number', description: 'members whose account is labelled confirmed (null without a store)' },
    { name: 'network.minors_contacted', type: 'number', description: 'distinct minor accounts outside the network with any interaction to or from a member, ended follows included, counted when detection stored the network: the figure the networks API and the case show (null without a store)' },
    { name: 'network.mean_risk', type: 'number', description: 'mean risk of the members, 0-1 (null without a store or when no member has one)' },
  ];

  async toRuleEvent(event: DomainEvent, lookup: FactLookup): Promise<RuleEvent> {
    const payload = parsePayload(payloadSchema, event);
    const subject = subjectOf('network', payload.network_id);
    const stored = await lookup.network(payload.network_id);
    return ruleEvent(event, subject, {
      'network.id': payload.network_id,
      'network.size': payload.summary.size,
      'network.sellers': payload.summary.sellers,
      'network.buyers': payload.summary.buyers,
      'network.confirmed_members': stored?.confirmedMembers ?? null,
      'network.minors_contacted': stored?.minorsContacted ?? null,
      'network.mean_risk': stored?.meanRisk ?? null,
    });
  }
}
