import 'reflect-metadata';
import { expect } from 'chai';
import { container, inject, injectable, singleton } from 'tsyringe';
import { Bus, DefinitionError, Endpoint, Service } from '@brigade/core';
import { Cleanup, NatsServer, startApp } from '@brigade/testing';

describe('dependency injection @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;

  beforeEach(async () => {
    server = cleanup.add(await NatsServer.start(), (s) => s.stop());
  });
  afterEach(() => cleanup.run());

  it('shares a singleton between two services and gives each a fresh transient', async () => {
    @singleton()
    class Stove {
      readonly id = Math.random();
    }
    @injectable()
    class Knife {
      readonly id = Math.random();
    }
    @Service({ name: 'grill' })
    class Grill {
      constructor(
        readonly stove: Stove,
        readonly knife: Knife,
      ) {}

      @Endpoint('grill.ids')
      ids(): number[] {
        return [this.stove.id, this.knife.id];
      }
    }
    @Service({ name: 'bakery' })
    class Bakery {
      constructor(
        readonly stove: Stove,
        readonly knife: Knife,
      ) {}

      @Endpoint('bakery.ids')
      ids(): number[] {
        return [this.stove.id, this.knife.id];
      }
    }
    const app = cleanup.add(await startApp(server, { services: [Grill, Bakery] }), (a) => a.stop());
    const [grillStove, grillKnife] = await app.bus.request<number[]>('grill.ids');
    const [bakeryStove, bakeryKnife] = await app.bus.request<number[]>('bakery.ids');
    expect(grillStove).to.equal(bakeryStove);
    expect(grillStove).to.equal(container.resolve(Stove).id);
    expect(grillKnife).to.not.equal(bakeryKnife);
  });

  it("injects the app's Bus and tokens registered on a given container", async () => {
    const scope = container.createChildContainer();
    scope.register('kitchen.name', { useValue: 'Chez Brigade' });
    @Service({ name: 'host' })
    class Host {
      constructor(
        readonly bus: Bus,
        @inject('kitchen.name') readonly kitchenName: string,
      ) {}

      @Endpoint('host.greet')
      greet(): string {
        return `welcome to ${this.kitchenName}`;
      }

      @Endpoint('host.ask')
      ask(): Promise<string> {
        return this.bus.request('host.greet');
      }
    }
    const app = cleanup.add(await startApp(server, { services: [Host], container: scope }), (a) =>
      a.stop(),
    );
    expect(await app.bus.request('host.ask')).to.equal('welcome to Chez Brigade');
  });

  it('gives two apps in one process their own service instances and Bus', async () => {
    const buses: Bus[] = [];
    @Service({ name: 'twin' })
    class Twin {
      constructor(bus: Bus) {
        buses.push(bus);
      }
    }
    const one = cleanup.add(await startApp(server, { services: [Twin] }), (a) => a.stop());
    const two = cleanup.add(await startApp(server, { services: [Twin] }), (a) => a.stop());
    expect(buses).to.deep.equal([one.bus, two.bus]);
    expect(one.bus).to.not.equal(two.bus);
  });

  it('fails start naming the service when its construction fails, and closes the connection', async () => {
    @Service({ name: 'broken' })
    class Broken {
      constructor() {
        throw new Error('no gas');
      }
    }
    const failure = await startApp(server, { services: [Broken] }).catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(DefinitionError);
    expect((failure as Error).message)
      .to.include("cannot construct Broken (service 'broken')")
      .and.include('no gas');
  });
});
