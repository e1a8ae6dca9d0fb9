import 'reflect-metadata';
import { Brigade } from '@brigade/core';
import { startTracing } from '@restaurant/contracts/tracing';
import { DEAD_LETTERS, ORDERS_STREAM } from '@restaurant/contracts';
import { Kitchen } from './kitchen.service';

// First: Brigade looks for an OpenTelemetry SDK when the app starts.
void startTracing('kitchen').then((tracing) =>
  Brigade.run(
    { services: [Kitchen], streams: [ORDERS_STREAM], deadLetter: DEAD_LETTERS },
    { stopped: () => tracing.stop() },
  ),
);
