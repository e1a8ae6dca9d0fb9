import 'reflect-metadata';
import { Brigade, container } from '@brigade/core';
import { startTracing } from '@restaurant/contracts/tracing';
import { DEAD_LETTERS, ORDERS_STREAM } from '@restaurant/contracts';
import { ReceptionHttpApi } from './http-api';
import { OrderBoard } from './order-board';
import { Reception } from './reception.service';

const port = Number(process.env['PORT'] ?? 8080);
let api: ReceptionHttpApi | undefined;

// First: Brigade looks for an OpenTelemetry SDK when the app starts.
void startTracing('reception').then((tracing) =>
  Brigade.run(
    { services: [Reception], streams: [ORDERS_STREAM], deadLetter: DEAD_LETTERS },
    {
      async started(app) {
        api = new ReceptionHttpApi(app.bus, app.logger, container.resolve(OrderBoard));
        const listening = await api.listen(port);
        app.logger.info(
          { port: listening },
          `reception listening on http://127.0.0.1:${listening}`,
        );
      },
      stopping: () => api?.close(),
      stopped: () => tracing.stop(),
    },
  ),
);
