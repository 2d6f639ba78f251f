import { defaultSignalRegistry } from '../../signals/default-registry.ts';
import type { SignalRegistry } from '../../signals/registry.ts';
import type { FactProvider, FactSpec } from '../types.ts';
import { ContentMatchedFacts } from './content-matched.ts';
import { EvasionSuspectedFacts } from './evasion-suspected.ts';
import { NetworkDetectedFacts } from './network-detected.ts';
import { ReportReceivedFacts } from './report-received.ts';
import { TermMatchedFacts } from './term-matched.ts';

/** The event types rules can listen to, each with the provider of its facts. */
export class FactProviderRegistry {
  private readonly providers = new Map<string, FactProvider>();
  private readonly specs = new Map<string, ReadonlyMap<string, FactSpec>>();

  constructor(providers: Iterable<FactProvider> = []) {
    for (const provider of providers) this.register(provider);
  }

  register(provider: FactProvider): this {
    if (this.providers.has(provider.eventType)) throw new Error(`a fact provider for ${provider.eventType} is already registered`);
    const specs = new Map<string, FactSpec>();
    for (const spec of provider.facts) {
      if (specs.has(spec.name)) throw new Error(`fact ${spec.name} is declared twice for ${provider.eventType}`);
      specs.set(spec.name, spec);
    }
    this.providers.set(provider.eventType, provider);
    this.specs.set(provider.eventType, specs);
    return this;
  }

  get(eventType: string): FactProvider | undefined {
    return this.providers.get(eventType);
  }

  get eventTypes(): string[] {
    return [...this.providers.keys()];
  }

  /** The facts of an event type by name, in the provider's order; undefined for an unknown type. */
  facts(eventType: string): ReadonlyMap<string, FactSpec> | undefined {
    return this.specs.get(eventType);
  }
}

/** The providers Bulwark ships with. Add a new event type here. */
export function defaultFactProviders(options: { signals?: SignalRegistry } = {}): FactProviderRegistry {
  return new FactProviderRegistry([
    new ContentMatchedFacts(options.signals ?? defaultSignalRegistry()),
    new NetworkDetectedFacts(),
    new EvasionSuspectedFacts(),
    new TermMatchedFacts(),
    new ReportReceivedFacts(),
  ]);
}
