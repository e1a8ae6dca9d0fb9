import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What to fetch: a Debian package and the program it ships. */
export interface DebianProgram {
  /** The Debian package, e.g. `nats-server`. */
  readonly package: string;
  /** The program's path inside the package, e.g. `usr/sbin/nats-server`. */
  readonly program: string;
  /**
   * A Debian suite (`bookworm`, `trixie`, `sid`) to take it from, from the machine's Debian
   * mirror; default: the machine's own package sources, as apt is configured.
   */
  readonly suite?: string;
  /** Where to keep it. Default: `$XDG_CACHE_HOME/brigade/debian` (else `~/.cache/...`). */
  readonly cacheDir?: string;
}

/** Where the program of `what` is once fetched, whether or not it is there yet. */
export function debianProgramPath(what: DebianProgram): string {
  return join(folderOf(what), 'root', what.program);
}

/**
 * The program of a Debian package, fetched with `apt-get download` into a cache folder and
 * unpacked there with `dpkg -x`, without root and without touching the system: apt gets lists,
 * a cache and (for another suite) a sources list of its own. Fetched once; later calls return
 * the cached program at once. Throws, saying what to install, where there is no apt.
 */
export function fetchDebianProgram(what: DebianProgram): string {
  const path = debianProgramPath(what);
  if (existsSync(path)) return path;
  for (const tool of ['apt-get', 'dpkg'])
    if (spawnSync(tool, ['--version']).status !== 0)
      throw new Error(`${tool} is not there (not a Debian or Ubuntu machine)`);
  const folder = folderOf(what);
  const lists = join(folder, 'lists');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  mkdirSync(join(folder, 'cache', 'archives', 'partial'), { recursive: true });
  const options = [
    '-o',
    `Dir::State::Lists=${lists}`,
    '-o',
    `Dir::Cache=${join(folder, 'cache')}`,
    '-o',
    'Debug::NoLocking=1',
    '-o',
    'APT::Sandbox::User=root',
  ];
  if (what.suite !== undefined) {
    const sources = join(folder, 'sources.list');
    writeFileSync(
      sources,
      `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${debianMirror()} ${what.suite} main\n`,
    );
    options.push('-o', `Dir::Etc::sourcelist=${sources}`, '-o', 'Dir::Etc::sourceparts=/dev/null');
  }
  apt(['update', '-qq', ...options], folder);
  const debs = join(folder, 'debs');
  mkdirSync(debs, { recursive: true });
  apt(['download', '-qq', ...options, what.package], debs);
  const deb = readdirSync(debs).find((f) => f.startsWith(`${what.package}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download left no ${what.package} package in ${debs}`);
  const unpacked = spawnSync('dpkg', ['-x', join(debs, deb), join(folder, 'root')], {
    encoding: 'utf8',
  });
  if (unpacked.status !== 0) throw new Error(`dpkg -x ${deb} failed: ${unpacked.stderr.trim()}`);
  if (!existsSync(path)) throw new Error(`${deb} holds no ${what.program}`);
  return path;
}

function folderOf(what: DebianProgram): string {
  const cache =
    what.cacheDir ??
    join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'brigade', 'debian');
  return join(cache, what.suite ?? 'system', what.package);
}

function apt(args: readonly string[], cwd: string): void {
  const run = spawnSync('apt-get', args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0)
    throw new Error(
      `apt-get ${args[0] ?? ''} failed: ${(run.stderr || run.stdout || String(run.error)).trim()}`,
    );
}

/**
 * The machine's Debian mirror, as its apt configuration names it (a deb822 `URIs:` line, or a
 * `deb` line): the first that is not the security archive. Never a host written into this code.
 */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d'))
      files.push(`/etc/apt/sources.list.d/${f}`);
  } catch {
    // no such folder
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const uris = [
      ...[...text.matchAll(/^URIs:\s*(.+)$/gm)].flatMap((m) => (m[1] as string).split(/\s+/)),
      ...[...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)].map((m) => m[1] as string),
    ];
    const mirror = uris.find((u) => /^https?:\/\//.test(u) && !/security/.test(u));
    if (mirror) return mirror.replace(/\/$/, '');
  }
  throw new Error("no Debian mirror in this machine's apt configuration (/etc/apt/sources.list*)");
}
