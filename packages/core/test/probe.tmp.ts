import { connect, AckPolicy, JSONCodec } from 'nats';
import { NatsServer } from '@brigade/testing';
(async () => {
  const s = await NatsServer.start({ jetstream: true });
  const nc = await connect({ servers: s.url });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  try {
    await js.publish('nostream.x', new Uint8Array());
  } catch (e: any) {
    console.log('nostream:', e.code, e.message);
  }
  await jsm.streams.add({ name: 'P', subjects: ['p.>'] });
  for (let i = 0; i < 3; i++)
    await js.publish('p.a', JSONCodec().encode(i), { msgID: 'id' + (i % 2) });
  console.log('msgs', (await jsm.streams.info('P')).state.messages);
  await jsm.consumers.add('P', {
    durable_name: 'c1',
    ack_policy: AckPolicy.Explicit,
    max_deliver: 2,
    ack_wait: 1_000_000_000,
    filter_subject: 'p.a',
  });
  const adv = nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.P.c1', {
    callback: (_e, m) => console.log('ADVISORY', m.string()),
  });
  const c = await js.consumers.get('P', 'c1');
  const t0 = Date.now();
  for (let round = 0; round < 5; round++) {
    const it = await c.fetch({ max_messages: 10, expires: 1500 });
    for await (const m of it) {
      console.log(
        Date.now() - t0,
        'got',
        m.seq,
        'dc',
        m.info.deliveryCount,
        m.info.redeliveryCount,
      );
      if (m.seq === 1) m.term(); // bare term
      // seq 2: never ack -> redelivered after 1s, then max deliveries
    }
    console.log(Date.now() - t0, 'fetch ended');
  }
  const ci = await jsm.consumers.info('P', 'c1');
  console.log(
    'pending',
    ci.num_pending,
    'ack_pending',
    ci.num_ack_pending,
    'redelivered',
    ci.num_redelivered,
  );
  try {
    await jsm.consumers.update('P', 'c1', { filter_subject: 'p.b' } as any);
    console.log('filter update ok');
  } catch (e: any) {
    console.log('filter update:', e.message);
  }
  try {
    await jsm.streams.update('P', { subjects: ['p.>'], storage: 'memory' } as any);
  } catch (e: any) {
    console.log('storage update:', e.message);
  }
  await nc.close();
  await s.stop();
})();
