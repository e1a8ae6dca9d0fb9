/**
 * The restaurant as processes: what `npm run demo` starts, and what each container of
 * docker-compose.yml runs (a spec holds the two together).
 */
export interface ServiceProcess {
  /** The compose service name. */
  readonly name: string;
  /** The command, run from the repository root (the containers' working directory). */
  readonly command: readonly string[];
  readonly replicas: number;
  /** Serves reception's HTTP API on `PORT`. */
  readonly http?: boolean;
}

export const TOPOLOGY: readonly ServiceProcess[] = [
  { name: 'order', command: ['node', 'apps/order/dist/main.js'], replicas: 1 },
  { name: 'kitchen', command: ['node', 'apps/kitchen/dist/main.js'], replicas: 2 },
  { name: 'reception', command: ['node', 'apps/reception/dist/main.js'], replicas: 1, http: true },
  { name: 'audit', command: ['node', 'apps/audit/dist/main.js'], replicas: 1 },
];

/** `brigade dashboard` with `flags`, as the demo and the specs run it beside the restaurant. */
export function dashboardProcess(...flags: string[]): ServiceProcess {
  return {
    name: 'dashboard',
    command: ['node', 'packages/cli/dist/main.js', 'dashboard', ...flags],
    replicas: 1,
  };
}
