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
}

/** TLS 1.2 suites: ECDHE with AEAD only (Mozilla "intermediate"). */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

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
    `    default-server check inter ${m.check.intervalMs}ms fall ${m.check.fall} rise ${m.check.rise} on-marked-down shutdown-sessions resolvers cluster resolve-prefer ipv4 init-addr libc,none`
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
 * The portal entrypoint: joins the certificate and key into the one PEM HAProxy loads, turns
 * the password from the Secret into the AUTH command the health check sends (RESP, hex-encoded,
 * so any byte in the password is safe), and runs HAProxy in master-worker mode. A background
 * loop watches the mounted certificate: when the kubelet updates the Secret (a cert-manager
 * renewal, a replaced Secret), it rebuilds the PEM and reloads HAProxy gracefully (SIGUSR2 to
 * the master: a new worker takes new connections, open ones finish on the old worker).
 */
export function renderPortalEntrypoint(m: PortalModel): string {
  return `#!/bin/sh
# Portal entrypoint for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
umask 077
TLS=${PORTAL_PATHS.tls}
PEM=${PORTAL_PATHS.run}/portal.pem
cert_sum() { cat "$TLS/tls.crt" "$TLS/tls.key" | cksum; }
build_pem() { cat "$TLS/tls.crt" "$TLS/tls.key" > "$PEM.tmp" && mv "$PEM.tmp" "$PEM"; }
build_pem
pw=$(cat ${PORTAL_PATHS.auth}/${m.passwordKey})
len=$(printf '%s' "$pw" | wc -c | tr -d ' ')
REDIS_AUTH_HEX=$(printf '*2\\r\\n$4\\r\\nAUTH\\r\\n$%s\\r\\n%s\\r\\n' "$len" "$pw" | od -An -v -tx1 | tr -d ' \\n')
export REDIS_AUTH_HEX
unset pw len

# After exec, $$ is HAProxy's master process.
main=$$
(
  last=$(cert_sum)
  while sleep ${m.certificateReloadSeconds}; do
    now=$(cert_sum) || continue
    [ "$now" = "$last" ] && continue
    sleep 2 # let the kubelet finish swapping the Secret's files
    build_pem || continue
    last=$(cert_sum)
    echo "portal: certificate changed, reloading" >&2
    kill -USR2 "$main" || exit 0
  done
) &
exec haproxy -W -db -f ${PORTAL_PATHS.config}/haproxy.cfg
`;
}
