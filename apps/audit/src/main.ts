import 'reflect-metadata';
import { Brigade } from '@brigade/core';
import { startTracing } from '@restaurant/contracts/tracing';
import { Audit } from './audit.service';

// First: Brigade looks for an OpenTelemetry SDK when the app starts.
void startTracing('audit').then((tracing) =>
  Brigade.run({ services: [Audit] }, { stopped: () => tracing.stop() }),
);
