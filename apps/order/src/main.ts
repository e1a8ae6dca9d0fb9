import 'reflect-metadata';
import { Brigade } from '@brigade/core';
import { startTracing } from '@restaurant/contracts/tracing';
import { DEAD_LETTERS, ORDERS_STREAM } from '@restaurant/contracts';
import { OrderService } from './order.service';

// First: Brigade looks for an OpenTelemetry SDK when the app starts.
void startTracing('order').then((tracing) =>
  Brigade.run(
    { services: [OrderService], streams: [ORDERS_STREAM], deadLetter: DEAD_LETTERS },
    { stopped: () => tracing.stop() },
  ),
);
