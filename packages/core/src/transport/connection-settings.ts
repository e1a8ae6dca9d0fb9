/** How to reach NATS. Mirrors the `nats` client's options so they pass through unchanged. */
export interface ConnectionSettings {
  /** Server URLs, e.g. `nats://127.0.0.1:4222`, or a comma-separated list. Default: `$NATS_URL`, else `127.0.0.1:4222`. */
  servers?: string | readonly string[];
  /** Connection name shown by the server's monitoring. Default: the app's service names. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** An NKey seed (`SU…`) to sign the server's challenge with. */
  nkeySeed?: string;
  /** Path of a `.creds` file (JWT and NKey seed), as issued by nsc. */
  credentialsFile?: string;
  /** TLS: `true` for the system's CAs, or the PEM file paths. */
  tls?: boolean | { caFile?: string; certFile?: string; keyFile?: string };
  /** Give up reconnecting after this many attempts; `-1` (default) never gives up. */
  maxReconnectAttempts?: number;
  /** Wait between reconnect attempts to the same server, in ms. Default: 2,000. */
  reconnectTimeWaitMs?: number;
  /** How long the first connection may take, in ms. Default: 5,000. */
  connectTimeoutMs?: number;
  /**
   * How long to keep trying the first connection while the server cannot be reached yet
   * (refused, its name not resolving, timed out), in ms; each failed try is logged. Credentials
   * or TLS refused fail at once. Default: 0 (fail at once) for `Brigade.start` and
   * `BrigadeClient`, 30,000 under `Brigade.run`, whose process an orchestrator may start before
   * its server.
   */
  connectRetryMs?: number;
  /** Client ping interval, in ms. Default: 120,000 (the `nats` default). */
  pingIntervalMs?: number;
}
