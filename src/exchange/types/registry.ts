import { invalid } from '../../errors.ts';
import type { ExchangeType } from '../exchange.ts';
import { bulwarkExchangeType } from './bulwark.ts';
import { fileExchangeType } from './file.ts';
import { ncmecExchangeType } from './ncmec.ts';
import { stopNciiExchangeType } from './stopncii.ts';
import { threatExchangeType } from './threatexchange.ts';

/** The kinds of exchange an operator can configure, by the name they type (`--type file`). */
export class ExchangeTypeRegistry {
  private readonly types = new Map<string, ExchangeType<any>>();

  constructor(types: ExchangeType<any>[] = []) {
    for (const type of types) this.register(type);
  }

  register(type: ExchangeType<any>): void {
    if (this.types.has(type.name)) throw new Error(`exchange type ${type.name} registered twice`);
    this.types.set(type.name, type);
  }

  get names(): string[] {
    return [...this.types.keys()].sort();
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  get(name: string): ExchangeType<any> {
    const type = this.types.get(name);
    if (!type) throw invalid(`unknown exchange type ${JSON.stringify(name)}; known types: ${this.names.join(', ')}`, { field: 'type', type: name });
    return type;
  }
}

/** The exchange types Bulwark ships with. A new one is one file under src/exchange/types/ and a line here. */
export function defaultExchangeTypes(): ExchangeTypeRegistry {
  return new ExchangeTypeRegistry([
    fileExchangeType,
    ncmecExchangeType,
    stopNciiExchangeType,
    threatExchangeType,
    bulwarkExchangeType,
  ]);
}
