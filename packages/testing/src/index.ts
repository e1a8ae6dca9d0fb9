export { NatsServer, type NatsServerOptions } from './nats-server';
export { findNatsServer, INSTALL_HINT } from './nats-server-binary';
export { waitFor, type WaitForOptions } from './wait-for';
export { startApp, Cleanup } from './test-apps';
