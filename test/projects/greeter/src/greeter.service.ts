import { Bus, Endpoint, NotFoundError, Service, Subscribe } from '@brigade/core';
import { Ledger } from './ledger.js';

@Service({ name: 'greeter', version: '1.0.0' })
export class Greeter {
  constructor(
    private readonly ledger: Ledger,
    private readonly bus: Bus,
  ) {}

  @Endpoint('greeter.hello')
  async hello(name: string): Promise<string> {
    if (name === 'nobody') throw new NotFoundError('nobody to greet');
    const count = this.ledger.record(name);
    await this.bus.publish('greeter.greeted', { name, count });
    return `hello, ${name}`;
  }

  @Subscribe('greeter.greeted')
  greeted(event: { name: string; count: number }): void {
    this.ledger.record(`greeted ${event.name}`);
  }
}
