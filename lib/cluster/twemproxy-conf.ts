import { shellConstants } from '../redis/shell';

/** Where the twemproxy pods mount their scripts, the password and the runtime config. */
export const TWEMPROXY_PATHS = {
  scripts: '/etc/redis-topologies/twemproxy',
  auth: '/etc/redis-topologies/auth',
  run: '/run/redis-topologies',
} as const;

/** twemproxy's stats port, bound to 127.0.0.1 only (nutcracker binds every interface unless told). */
export const TWEMPROXY_STATS_PORT = 22222;

/** What the twemproxy renderer needs: the pool, its members by stable name, and timeouts. */
export interface TwemproxyModel {
  readonly name: string;
  readonly namespace: string;
  readonly listenPort: number;
  /** Every shard's member, by its stable DNS name, shard order. */
  readonly servers: ReadonlyArray<{ readonly host: string; readonly port: number; readonly name: string }>;
  /** Per-request timeout to a shard. */
  readonly timeoutMs: number;
  /** Consecutive failures before a shard is ejected from the ring (its keys move to the others). */
  readonly serverFailureLimit: number;
  /** How long an ejected shard stays out before it is tried again. */
  readonly serverRetryTimeoutMs: number;
}

/**
 * Commands twemproxy 0.5.0 does not proxy (it closes the connection without an error), measured
 * with Debian's nutcracker (dataplane-facts.md).
 */
export const TWEMPROXY_UNSUPPORTED_COMMANDS: readonly string[] = Object.freeze([
  'ECHO', 'INFO', 'DBSIZE', 'KEYS', 'SCAN', 'RANDOMKEY', 'SELECT', 'CONFIG', 'MULTI/EXEC/WATCH', 'SUBSCRIBE/PUBLISH', 'BLPOP and other blocking commands',
  'FLUSHALL', 'CLIENT', 'TIME', 'OBJECT', 'HELLO 3', 'SCRIPT LOAD', 'CLUSTER', 'XADD', 'RENAME',
]);

/**
 * nutcracker.yml without the password: the entrypoint appends `redis_auth` from the Secret into the
 * in-memory run directory. Servers are named after their pods: ketama places keys by those names,
 * so a member re-created at a new address keeps its keys.
 */
export function renderTwemproxyConfTemplate(m: TwemproxyModel): string {
  return [
    `# nutcracker.yml for ${m.namespace}/${m.name}, rendered by redis-topologies; redis_auth is added at boot from the Secret.`,
    `${m.name}:`,
    `  listen: 0.0.0.0:${m.listenPort}`,
    '  redis: true',
    // murmur spreads similar keys evenly; fnv1a_64 put 200 similar keys on one shard (dataplane-facts.md).
    '  hash: murmur',
    '  distribution: ketama',
    '  hash_tag: "{}"',
    // A cache: a shard that fails is ejected and its keys go to the others until it is back.
    '  auto_eject_hosts: true',
    `  server_failure_limit: ${m.serverFailureLimit}`,
    `  server_retry_timeout: ${m.serverRetryTimeoutMs}`,
    `  timeout: ${m.timeoutMs}`,
    '  preconnect: true',
    '  servers:',
    ...m.servers.map((s) => `   - ${s.host}:${s.port}:1 ${s.name}`),
    '',
  ].join('\n');
}

/**
 * The proxy's entrypoint: writes the runtime config (template + `redis_auth` from the Secret,
 * memory only), records what each server's name resolves to (nutcracker resolves them once, at
 * start), and runs nutcracker in the foreground with its stats on 127.0.0.1.
 */
export function renderTwemproxyEntrypoint(m: TwemproxyModel): string {
  return `#!/bin/sh
# twemproxy entrypoint for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
${shellConstants({ SCRIPTS_DIR: TWEMPROXY_PATHS.scripts, AUTH_DIR: TWEMPROXY_PATHS.auth, RUN_DIR: TWEMPROXY_PATHS.run, STATS_PORT: TWEMPROXY_STATS_PORT })}
umask 077
password=$(cat "$AUTH_DIR/password")
case "$password" in *'"'*|*'\\'*) echo "the password must not contain a double quote or a backslash (nutcracker.yml)" >&2; exit 1 ;; esac
{ cat "$SCRIPTS_DIR/nutcracker.yml"; printf '  redis_auth: "%s"\\n' "$password"; } > "$RUN_DIR/nutcracker.yml"
sh "$SCRIPTS_DIR/twemproxy-probe.sh" addresses > "$RUN_DIR/addresses"
# nutcracker logs only to a file it opens by name (Debian's build defaults to /var/log): a FIFO
# relayed to this process's stderr, which it inherits rather than reopens.
rm -f "$RUN_DIR/log"
mkfifo -m 600 "$RUN_DIR/log"
cat "$RUN_DIR/log" >&2 &
exec nutcracker -c "$RUN_DIR/nutcracker.yml" -a 127.0.0.1 -s "$STATS_PORT" -o "$RUN_DIR/log"
`;
}

/**
 * Probes: \`addresses\` prints what every server name resolves to now; \`liveness\` fails when that
 * differs from what nutcracker resolved at start (a member re-created at a new address), so the
 * kubelet restarts the proxy, which resolves again.
 */
export function renderTwemproxyProbe(m: TwemproxyModel): string {
  return `#!/bin/sh
# twemproxy probe for ${m.namespace}/${m.name}: twemproxy-probe.sh addresses|liveness
RUN_DIR='${TWEMPROXY_PATHS.run}'
addresses() {
${m.servers.map((s) => `  printf '%s %s\\n' '${s.host}' "$(getent hosts '${s.host}' | awk 'NR == 1 { print $1 }')"`).join('\n')}
}
case "\${1:-liveness}" in
  addresses) addresses ;;
  liveness)
    now=$(addresses)
    if [ "$now" != "$(cat "$RUN_DIR/addresses")" ]; then
      # A name that does not resolve right now (a member being re-created) is not a move yet.
      if printf '%s\\n' "$now" | awk 'NF < 2 { missing = 1 } END { exit !missing }'; then exit 0; fi
      echo "a shard moved: $(printf '%s' "$now" | tr '\\n' ' ')" >&2
      exit 1
    fi ;;
  *) echo "usage: $0 addresses|liveness" >&2; exit 2 ;;
esac
`;
}

/** The twemproxy ConfigMap: the config template, the entrypoint and the probe. */
export function renderTwemproxyFiles(m: TwemproxyModel): Record<string, string> {
  return {
    'nutcracker.yml': renderTwemproxyConfTemplate(m),
    'twemproxy-entrypoint.sh': renderTwemproxyEntrypoint(m),
    'twemproxy-probe.sh': renderTwemproxyProbe(m),
  };
}
