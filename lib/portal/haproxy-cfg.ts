import { TLS12_CIPHER_SUITES } from '../core/tls';
/** Mount paths inside a portal pod. */
export const PORTAL_PATHS = {
  config: '/etc/redis-topologies/config',
  auth: '/etc/redis-topologies/auth',
  tls: '/etc/redis-topologies/tls',
  backendTls: '/etc/redis-topologies/backend-tls',
  run: '/run/redis-topologies',
  tmp: '/tmp',
} as const;

/** Everything haproxy.cfg and the entrypoint are rendered from. */
export interface PortalModel {
  readonly name: string;
  readonly namespace: string;
  /** Client-facing TLS port. */
  readonly port: number;
  readonly metricsPort: number;
  readonly statsPage: boolean;
  /** HAProxy's name for the lowest TLS version accepted ('TLSv1.2' or 'TLSv1.3'). */
  readonly minTlsVersion: string;
  readonly backends: ReadonlyArray<{ name: string; host: string; port: number }>;
  readonly backendTls: boolean;
  readonly passwordKey: string;
  readonly check: { intervalMs: number; fall: number; rise: number; timeoutMs: number };
  readonly threads: number;
  readonly maxConnections: number;
  readonly clientTimeoutSeconds: number;
  readonly bufferSize: number;
  /** How often the entrypoint looks for a renewed certificate. */
  readonly certificateReloadSeconds: number;
  /**
   * How long a portal that is being deleted keeps serving in its preStop hook, while the cluster
   * takes it out of the Service's endpoints (0: no hook).
   */
  readonly drainSeconds: number;
  /**
   * After SIGTERM: how long HAProxy's open client connections may go on once its listeners are
   * closed, before HAProxy is stopped and closes them.
   */
  readonly stopSeconds: number;
}

/** TLS 1.2 suites: ECDHE with AEAD only (Mozilla "intermediate"), as HAProxy spells a list. */
export const TLS12_CIPHERS = TLS12_CIPHER_SUITES.join(':');

export const TLS13_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/**
 * How often a portal resolves every member's name again: the check interval, at most 1 s (HAProxy's
 * default), so a member that moves is followed before the next checks or about then.
 */
export function resolveIntervalMs(m: Pick<PortalModel, 'check'>): number {
  return Math.min(m.check.intervalMs, 1000);
}

/**
 * haproxy.cfg. Only the data member that answers `role:master` is in rotation: each check
 * authenticates (the AUTH command comes from the environment the entrypoint builds from the
 * Secret, never from this ConfigMap), pings, and sends INFO replication together with QUIT so a
 * replica's check fails at once instead of at the check timeout. A member marked down has its
 * client sessions shut, so clients stuck on a demoted primary reconnect to the new one. Member
 * names are re-resolved at run time, so a pod that comes back at a new address is followed within
 * about one check interval, and a failing cluster DNS never takes a member with a known address
 * out of rotation (see the resolvers section's comments).
 */
export function renderHaproxyCfg(m: PortalModel): string {
  const resolveMs = resolveIntervalMs(m);
  const lines: string[] = [
    `# haproxy.cfg for ${m.namespace}/${m.name}, rendered by redis-topologies`,
    'global',
    '    log stdout format raw local0 notice',
    `    nbthread ${m.threads}`,
    `    maxconn ${m.maxConnections}`,
    `    tune.bufsize ${m.bufferSize}`,
    `    ssl-default-bind-options ssl-min-ver ${m.minTlsVersion} no-tls-tickets`,
    `    ssl-default-bind-ciphers ${TLS12_CIPHERS}`,
    `    ssl-default-bind-ciphersuites ${TLS13_CIPHERSUITES}`,
    '    ssl-default-server-options ssl-min-ver TLSv1.2',
    '',
    '# Cluster DNS from the pod\'s resolv.conf. DNS only tells where a member is; the health checks',
    '# alone decide whether it is in rotation.',
    'resolvers cluster',
    '    parse-resolv-conf',
    `    # Every member's name is asked again every ${resolveMs} ms (the check interval, at most 1 s), so a`,
    '    # member re-created at a new address is followed within about one check interval.',
    `    timeout resolve ${resolveMs}ms`,
    '    # A query unanswered after 500 ms is sent again, 3 times; then this resolution has timed out.',
    '    timeout retry 500ms',
    '    resolve_retries 3',
    '    # A check that cannot connect asks DNS again at once when the last answer is older than this.',
    `    hold valid ${resolveMs}ms`,
    '    # An address missing from the latest answer is dropped at once: the member has moved. (Kept',
    '    # for 30 s, it held the checks on the dead address and the portal refused clients that long.)',
    '    hold obsolete 0s',
    '    # A DNS that does not answer, refuses or fails says nothing about the member: its last known',
    '    # address stays in use (for up to a day) and the checks decide, so a slow, overloaded or',
    '    # restarting cluster DNS never puts a healthy member in maintenance.',
    '    hold timeout 1d',
    '    hold refused 1d',
    '    hold other 1d',
    '    # NXDOMAIN for a running member is a DNS glitch: its address is kept for a minute. A deleted',
    '    # pod\'s name is NXDOMAIN for real: after that minute its old address is forgotten, so that,',
    '    # once given to another pod, it cannot make one member count twice in rotation.',
    '    hold nx 1m',
    '',
    'defaults',
    '    mode tcp',
    '    log global',
    '    option dontlognull',
    '    timeout connect 3s',
    `    timeout client ${m.clientTimeoutSeconds}s`,
    `    timeout server ${m.clientTimeoutSeconds}s`,
    `    timeout check ${m.check.timeoutMs}ms`,
    '',
    'frontend redis',
    `    bind :${m.port} ssl crt ${PORTAL_PATHS.run}/portal.pem ssl-min-ver ${m.minTlsVersion}`,
    '    # Exactly one member in rotation, or no client at all: HAProxy starts every server UP until',
    '    # its first check, and two members claiming master is a split brain to refuse, not to share.',
    '    tcp-request connection reject if !{ nbsrv(redis_primary) eq 1 }',
    '    default_backend redis_primary',
    '',
    'backend redis_primary',
    '    option tcp-check',
    m.backendTls ? '    tcp-check connect ssl' : '    tcp-check connect',
    '    tcp-check send-binary "${REDIS_AUTH_HEX}"',
    '    tcp-check expect string +OK',
    '    tcp-check send "PING\\r\\n"',
    '    tcp-check expect string +PONG',
    '    tcp-check send "INFO replication\\r\\nQUIT\\r\\n"',
    '    tcp-check expect string role:master',
    '    # A member whose state is changing (UP failing, DOWN answering) is checked every 100 ms, and a',
    '    # member that is down every 250 ms (at most inter): after a failover the old primary leaves',
    '    # rotation and the new one joins within a few tenths of a second instead of up to two intervals.',
    `    default-server check inter ${m.check.intervalMs}ms fastinter ${Math.min(100, m.check.intervalMs)}ms downinter ${Math.min(250, m.check.intervalMs)}ms fall ${m.check.fall} rise ${m.check.rise} on-marked-down shutdown-sessions resolvers cluster resolve-prefer ipv4 init-addr libc,none`
      + (m.backendTls ? ` ssl verify required ca-file ${PORTAL_PATHS.backendTls}/ca.crt` : ''),
    ...m.backends.map((b) => `    server ${b.name} ${b.host}:${b.port}` + (m.backendTls ? ` verifyhost ${b.host}` : '')),
    '',
    'frontend metrics',
    '    mode http',
    `    bind :${m.metricsPort}`,
    '    option dontlog-normal',
    '    monitor-uri /healthz',
    '    http-request use-service prometheus-exporter if { path /metrics }',
  ];
  if (m.statsPage) lines.push('    stats enable', '    stats uri /stats', '    stats refresh 10s');
  else lines.push('    http-request deny if !{ path /metrics } !{ path /healthz }');
  lines.push('');
  return lines.join('\n');
}

/**
 * The pod's terminationGracePeriodSeconds: the preStop drain, the bounded stop after SIGTERM, and a
 * margin (the kubelet counts the hook against the grace period, then SIGKILLs what is left).
 */
export function portalTerminationGraceSeconds(m: Pick<PortalModel, 'drainSeconds' | 'stopSeconds'>): number {
  return m.drainSeconds + m.stopSeconds + 5;
}

/**
 * The portal entrypoint, a supervisor in POSIX sh (the unit tests run it under dash, the image's
 * sh, bash --posix, and busybox ash where installed). It joins the certificate and key into the
 * one PEM HAProxy loads, turns the password from the Secret into the AUTH command the health check
 * sends (RESP, hex-encoded, so any byte in the password is safe), and starts HAProxy in
 * master-worker mode and a certificate watcher side by side, as its own children:
 *
 * - the watcher looks at the mounted certificate every `certificateReloadSeconds`: when the kubelet
 *   updates the Secret (a cert-manager renewal, a replaced Secret), it rebuilds the PEM and reloads
 *   HAProxy gracefully (SIGUSR2 to the master: a new worker takes new connections, open ones
 *   finish on the old worker);
 * - on SIGTERM (or SIGINT) it stops the watcher, soft-stops HAProxy (SIGUSR1 to the master: the
 *   listeners close, open client connections go on), gives those connections `stopSeconds`, then
 *   stops HAProxy (SIGTERM: what is left is closed, and those clients reconnect through the Service
 *   to another portal), and exits with HAProxy's status. The preStop hook has kept the portal
 *   serving until then, while the Service dropped it (see renderPortalPreStop).
 *
 * HAProxy is never exec'd: the watcher would then be a child of HAProxy's master, which waits for
 * its children after SIGTERM, so a portal ignored SIGTERM until the kubelet's SIGKILL (30 s).
 * HAProxy's own `hard-stop-after` is not used for the bound: it would also cut the connections the
 * old worker keeps at every certificate reload.
 */
export function renderPortalEntrypoint(m: PortalModel): string {
  return `#!/bin/sh
# Portal entrypoint for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
umask 077
TLS=${PORTAL_PATHS.tls}
RUN=${PORTAL_PATHS.run}
PEM=$RUN/portal.pem
STOP_SECONDS=${m.stopSeconds}
# A stop is handled below whenever it comes: sh runs a trap between two commands, and a trapped
# signal ends a \`wait\` early.
stop_asked=""
trap 'stop_asked=1' TERM INT
# For the preStop hook, which writes to this process's stderr (the container log).
echo "$$" > "$RUN/portal.pid"
# Set when the stop begins (the folder outlives a container restart).
STOPPING=$RUN/stopping
rm -f "$STOPPING"
cert_sum() { cat "$TLS/tls.crt" "$TLS/tls.key" | cksum; }
build_pem() { cat "$TLS/tls.crt" "$TLS/tls.key" > "$PEM.tmp" && mv "$PEM.tmp" "$PEM"; }
# Taken before the PEM is built: a certificate that changes in between is loaded again later.
last=$(cert_sum)
build_pem
pw=$(cat ${PORTAL_PATHS.auth}/${m.passwordKey})
len=$(printf '%s' "$pw" | wc -c | tr -d ' ')
REDIS_AUTH_HEX=$(printf '*2\\r\\n$4\\r\\nAUTH\\r\\n$%s\\r\\n%s\\r\\n' "$len" "$pw" | od -An -v -tx1 | tr -d ' \\n')
export REDIS_AUTH_HEX
unset pw len

# A sleep that SIGTERM ends at once, for the subshells below (with \`trap wake TERM\`): sh runs a
# trap only between two commands, so the sleep runs in the background and \`wait\`, which a trapped
# signal ends, waits for it. Fails once a SIGTERM has come, the sleep killed (with SIGKILL: until it
# has exec'd, the sleep's process would catch a SIGTERM with this shell's trap, and lose it).
napping=""
woken=""
wake() { woken=1; [ -z "$napping" ] || kill -9 "$napping" 2>/dev/null || :; }
nap() {
  sleep "$1" & napping=$!
  if [ -z "$woken" ]; then wait "$napping" || :; else kill -9 "$napping" 2>/dev/null || :; fi
  napping=""
  [ -z "$woken" ]
}

# HAProxy and the certificate watcher are siblings, children of this shell (never HAProxy's).
haproxy -W -db -f ${PORTAL_PATHS.config}/haproxy.cfg &
hap=$!
(
  trap wake TERM
  # The flag also ends the watcher when the entrypoint's SIGTERM reached it before its trap was
  # set (caught with the entrypoint's trap, and lost).
  while [ ! -e "$STOPPING" ] && nap ${m.certificateReloadSeconds}; do
    now=$(cert_sum) || continue
    [ "$now" = "$last" ] && continue
    nap 2 || break # let the kubelet finish swapping the Secret's files
    build_pem || continue
    last=$(cert_sum)
    [ -z "$woken" ] && [ ! -e "$STOPPING" ] || break
    echo "portal: certificate changed, reloading" >&2
    kill -USR2 "$hap" || break
  done
) &
watcher=$!

# Until HAProxy exits by itself (its status is then this container's) or a stop is asked for.
status=0
while [ -z "$stop_asked" ]; do
  wait "$hap" && status=0 || status=$?
  kill -0 "$hap" 2>/dev/null || break
done
# No reload from here on: it would open the listeners again.
: > "$STOPPING"
kill "$watcher" 2>/dev/null || :
if kill -0 "$hap" 2>/dev/null; then
  echo "portal: stopping: listeners closed, open connections get $STOP_SECONDS s" >&2
  kill -USR1 "$hap" 2>/dev/null || :
  (
    trap wake TERM
    nap "$STOP_SECONDS" || exit 0
    echo "portal: stopping HAProxy: open connections are closed" >&2
    kill -TERM "$hap" 2>/dev/null || :
  ) &
  timer=$!
  # HAProxy's master exits once its workers have (their last connection closed, or stopped).
  while :; do
    wait "$hap" && status=0 || status=$?
    kill -0 "$hap" 2>/dev/null || break
  done
  kill "$timer" 2>/dev/null || :
fi
echo "portal: HAProxy exited with status $status" >&2
exit "$status"
`;
}

/**
 * The preStop hook. The kubelet runs it when the pod is deleted (a rolling update, a node drain, an
 * eviction, a scale-in) and sends SIGTERM only once it has ended. Meanwhile the pod is taken out of
 * the Service's endpoints, and kube-proxy on every node (or a cloud load balancer) stops sending it
 * new connections; until that has happened they still arrive. So the portal keeps serving, fully,
 * for `drainSeconds`: by the time its listeners close, new connections already go to other portals.
 */
export function renderPortalPreStop(m: PortalModel): string {
  return `#!/bin/sh
# Portal preStop hook for ${m.namespace}/${m.name}, rendered by redis-topologies.
DRAIN_SECONDS=${m.drainSeconds}
# A hook's output is not in the container log (only in the pod's events when the hook fails): also
# write to the entrypoint's stderr, which the container runtime gives to the container's user.
main=$(cat ${PORTAL_PATHS.run}/portal.pid 2>/dev/null) || main=""
say() { echo "portal: preStop: $*" >&2; { echo "portal: preStop: $*" >> "/proc/$main/fd/2"; } 2>/dev/null || :; }
say "serving $DRAIN_SECONDS s more while the Service drops this pod"
sleep "$DRAIN_SECONDS"
`;
}
