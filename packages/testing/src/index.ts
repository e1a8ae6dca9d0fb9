export { NatsServer, type NatsServerOptions } from './nats-server';
export { NatsCluster, type NatsClusterOptions } from './nats-cluster';
export {
  findNatsServer,
  INSTALL_HINT,
  natsServerOfSuite,
  newestNatsServer,
  type NatsServerSuite,
} from './nats-server-binary';
export { debianMirror, fetchDebianProgram, type DebianProgram } from './debian-package';
export { waitFor, type WaitForOptions } from './wait-for';
export { startApp, Cleanup } from './test-apps';
export {
  RawNatsConnection,
  RawInbox,
  type RawFrame,
  type RawMessage,
  type RawConnectOptions,
} from './raw-connection';
