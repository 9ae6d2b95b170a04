import { TLS12_CIPHER_SUITES } from '../core/tls';
/**
 * The Envoy bootstrap of the "enterprise" cluster policy: Envoy's redis_proxy in front of a Redis
 * Cluster, so that clients without cluster support see one TLS endpoint. A pure renderer: the
 * construct mounts the result in a ConfigMap. The fields used are checked against Envoy's v3 protos
 * of the pinned release by test/cluster/envoy-config.test.ts (see test/cluster/fixtures/README.md).
 */

/** Everything the bootstrap is rendered from. */
export interface EnvoyProxyModel {
  /** Topology name, e.g. 'orders'. */
  readonly name: string;
  readonly namespace: string;
  /** The TLS listener clients connect to. */
  readonly listenPort: number;
  /** Admin interface, bound to 127.0.0.1 only: probes exec into the pod, nothing else reaches it. */
  readonly adminPort: number;
  /** Stable DNS names of every cluster member, e.g. 'orders-shard-0-0.orders-headless.ns.svc.cluster.local'. */
  readonly seedHosts: readonly string[];
  /** The members' Redis port. */
  readonly redisPort: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** Clients AUTH with this password at the proxy, and the proxy AUTHs with it to the members. */
  readonly passwordFile: string;
  /** Per-command timeout. */
  readonly opTimeoutMs: number;
  /** CLUSTER SLOTS refresh period, and the least time between two refreshes triggered by redirections or failures. */
  readonly refreshMs: number;
}

/**
 * The Envoy release the proxy runs. 1.37 is the release whose v3 API the fixture was generated from
 * (data-plane-api mirrored after the 1.37.0 cut); .2 is its latest patch release in the changelogs
 * read (changelogs/1.37.2.yaml, 2026-04-10).
 */
export const ENVOY_IMAGE = 'envoyproxy/envoy:v1.37.2';

/**
 * Multi-key commands the proxy splits by slot and answers as one (Envoy's
 * hashMultipleSumResultCommands plus mget and mset, source/extensions/filters/network/common/redis/
 * supported_commands.h): the same list as Azure's Enterprise cluster policy. Other multi-key
 * commands need all their keys in one slot.
 */
export const ENVOY_SPLIT_COMMANDS: readonly string[] = Object.freeze(['DEL', 'EXISTS', 'TOUCH', 'UNLINK', 'MGET', 'MSET']);

/** Names inside the bootstrap (stats are rooted at them: one proxy per topology, so they are fixed). */
export const ENVOY_NAMES = {
  listener: 'redis_tls',
  statPrefix: 'redis',
  cluster: 'redis_cluster',
  dnsCache: 'redis_redirects',
} as const;

/** The upstream cluster type and protocol-options key Envoy registers for Redis. */
const REDIS_CLUSTER_TYPE = 'envoy.clusters.redis';
const REDIS_PROXY_FILTER = 'envoy.filters.network.redis_proxy';
const TYPE_URL = 'type.googleapis.com/';



/**
 * A name lookup that prefers IPv4 and falls back to IPv6, so the same bootstrap works on IPv4,
 * dual-stack and IPv6-only clusters.
 */
const DNS_LOOKUP_FAMILY = 'V4_PREFERRED';

/** Envoy's default CLUSTER SLOTS timeout, kept unless the refresh period is shorter. */
const DEFAULT_REFRESH_TIMEOUT_MS = 3000;

/** The Envoy v3 bootstrap as YAML, deterministic: the same model gives the same bytes. */
export function renderEnvoyConfig(m: EnvoyProxyModel): string {
  const header = `# Envoy bootstrap for the ${m.name} proxy (namespace ${m.namespace}): rendered by redis-topologies`;
  return `${header}\n${toYaml(envoyBootstrap(m))}`;
}

/**
 * The Envoy v3 bootstrap (envoy.config.bootstrap.v3.Bootstrap, proto field names):
 *
 * - one listener on listenPort that terminates TLS (1.2 at least, certificate and key read from
 *   files) and runs redis_proxy, whose clients must AUTH with the password read from passwordFile:
 *   no secret is ever in the bootstrap (a DataSource `filename`, read verbatim, so the file must not
 *   end with a newline);
 * - one `envoy.clusters.redis` cluster: the seed names are resolved, one answering member is asked
 *   CLUSTER SLOTS, and from then on the topology (host names announced by the members included) is
 *   refreshed every refreshMs and after redirections or failures; the proxy AUTHs to the members with
 *   the same password, in plain text (TLS to the members is not configured: envoy#8440);
 * - MOVED / ASK are followed by the proxy, host names in them resolved through a DNS cache;
 * - the admin interface on 127.0.0.1 only.
 */
export function envoyBootstrap(m: EnvoyProxyModel): Record<string, unknown> {
  validateModel(m);
  return {
    static_resources: {
      listeners: [listener(m)],
      clusters: [redisCluster(m)],
    },
    admin: {
      address: socketAddress('127.0.0.1', m.adminPort),
    },
  };
}

function listener(m: EnvoyProxyModel): Record<string, unknown> {
  return {
    name: ENVOY_NAMES.listener,
    address: socketAddress('0.0.0.0', m.listenPort),
    filter_chains: [
      {
        filters: [
          {
            name: REDIS_PROXY_FILTER,
            typed_config: {
              '@type': `${TYPE_URL}envoy.extensions.filters.network.redis_proxy.v3.RedisProxy`,
              stat_prefix: ENVOY_NAMES.statPrefix,
              settings: {
                op_timeout: duration(m.opTimeoutMs),
                // Keys with the same {tag} go to one slot, as on Redis Cluster itself.
                enable_hashtagging: true,
                // MOVED / ASK are retried on the node named, not passed to clients that cannot follow them.
                enable_redirection: true,
                // Members announce host names (cluster-preferred-endpoint-type hostname), so redirections
                // carry names: without a DNS cache Envoy passes such a MOVED to the client verbatim
                // (docs/root/intro/arch_overview/other_protocols/redis.rst).
                dns_cache_config: {
                  name: ENVOY_NAMES.dnsCache,
                  dns_lookup_family: DNS_LOOKUP_FAMILY,
                },
              },
              prefix_routes: {
                catch_all_route: { cluster: ENVOY_NAMES.cluster },
              },
              // The repeated form: `downstream_auth_password` is deprecated since API 3.0.
              downstream_auth_passwords: [{ filename: m.passwordFile }],
            },
          },
        ],
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': `${TYPE_URL}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
            common_tls_context: {
              tls_params: {
                tls_minimum_protocol_version: 'TLSv1_2',
                cipher_suites: TLS12_CIPHER_SUITES,
              },
              tls_certificates: [
                {
                  certificate_chain: { filename: m.tlsCertFile },
                  private_key: { filename: m.tlsKeyFile },
                },
              ],
            },
          },
        },
      },
    ],
  };
}

function redisCluster(m: EnvoyProxyModel): Record<string, unknown> {
  return {
    name: ENVOY_NAMES.cluster,
    // Also bounds the first command to a member the proxy has no connection to yet.
    connect_timeout: duration(m.opTimeoutMs),
    // The slot-aware balancer of envoy.clusters.redis: with any other policy the cluster is built
    // without it (RedisClusterFactory::createClusterWithConfig).
    lb_policy: 'CLUSTER_PROVIDED',
    // Read by envoy.clusters.redis for the seed names and for host names in CLUSTER SLOTS.
    dns_lookup_family: DNS_LOOKUP_FAMILY,
    cluster_type: {
      name: REDIS_CLUSTER_TYPE,
      typed_config: {
        '@type': `${TYPE_URL}envoy.extensions.clusters.redis.v3.RedisClusterConfig`,
        cluster_refresh_rate: duration(m.refreshMs),
        cluster_refresh_timeout: duration(Math.min(DEFAULT_REFRESH_TIMEOUT_MS, m.refreshMs)),
        // At most one triggered refresh per period...
        redirect_refresh_interval: duration(m.refreshMs),
        // ...on the first redirection (default 5): after a failover or a slot migration every
        // command to the moved slots is redirected until the next refresh.
        redirect_refresh_threshold: 1,
        // ...and on the first upstream failure (default 0: never): a primary that died is replaced
        // in the map as soon as its replica has taken over, not at the next periodic refresh.
        failure_refresh_threshold: 1,
      },
    },
    // The seeds: every member, so discovery starts while any one of them answers.
    load_assignment: {
      cluster_name: ENVOY_NAMES.cluster,
      endpoints: [
        {
          lb_endpoints: m.seedHosts.map((host) => ({
            endpoint: { address: socketAddress(host, m.redisPort) },
          })),
        },
      ],
    },
    // The members' requirepass, used for CLUSTER SLOTS and for every command connection.
    typed_extension_protocol_options: {
      [REDIS_PROXY_FILTER]: {
        '@type': `${TYPE_URL}envoy.extensions.filters.network.redis_proxy.v3.RedisProtocolOptions`,
        auth_password: { filename: m.passwordFile },
      },
    },
  };
}

function socketAddress(address: string, port: number): Record<string, unknown> {
  return { socket_address: { address, port_value: port } };
}

/** A google.protobuf.Duration in its JSON form: whole milliseconds as decimal seconds ('1s', '0.5s'). */
function duration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const fraction = String(ms % 1000).padStart(3, '0').replace(/0+$/, '');
  return fraction === '' ? `${seconds}s` : `${seconds}.${fraction}s`;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Absolute, printable, no spaces, and nothing a template engine downstream could read as its own. */
const FILE_PATH = /^\/[A-Za-z0-9._\-/]+$/;

/** Fails on a model Envoy would reject or that would render an ambiguous file. */
function validateModel(m: EnvoyProxyModel): void {
  const problems: string[] = [];
  if (!DNS_LABEL.test(m.name)) problems.push(`name '${m.name}' is not a DNS label`);
  if (!DNS_LABEL.test(m.namespace)) problems.push(`namespace '${m.namespace}' is not a DNS label`);
  for (const [key, port] of [['listenPort', m.listenPort], ['adminPort', m.adminPort], ['redisPort', m.redisPort]] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${key} ${port} is not a TCP port`);
  }
  if (m.listenPort === m.adminPort) problems.push('listenPort and adminPort must differ');
  if (m.seedHosts.length === 0) problems.push('seedHosts is empty');
  for (const host of m.seedHosts) {
    if (!DNS_NAME.test(host)) problems.push(`seed host '${host}' is not a DNS name`);
  }
  if (new Set(m.seedHosts).size !== m.seedHosts.length) problems.push('seedHosts has duplicates');
  for (const [key, path] of [['tlsCertFile', m.tlsCertFile], ['tlsKeyFile', m.tlsKeyFile], ['passwordFile', m.passwordFile]] as const) {
    if (!FILE_PATH.test(path) || path.split('/').includes('..')) problems.push(`${key} '${path}' is not a plain absolute path`);
  }
  for (const [key, ms] of [['opTimeoutMs', m.opTimeoutMs], ['refreshMs', m.refreshMs]] as const) {
    if (!Number.isInteger(ms) || ms < 1) problems.push(`${key} ${ms} is not a positive whole number of milliseconds`);
  }
  if (problems.length > 0) throw new Error(`Envoy proxy ${m.namespace}/${m.name}: ${problems.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------------
// YAML. A small emitter for the JSON-like values above: block style, every string double-quoted
// (JSON escapes are valid YAML double-quoted scalars), keys plain only when they cannot be read as
// anything but a string. Kept here so the library needs no YAML dependency at run time.

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function toYaml(value: unknown): string {
  return `${yamlLines(value as Json, '').join('\n')}\n`;
}

function isBlock(value: Json): value is Json[] | { [key: string]: Json } {
  return value !== null && typeof value === 'object' && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0);
}

function yamlScalar(value: Json): string {
  if (Array.isArray(value)) return '[]';
  if (value === null) return 'null';
  if (typeof value === 'object') return '{}';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot render ${value} in YAML`);
    return String(value);
  }
  return value ? 'true' : 'false';
}

function yamlKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(key) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(key) ? key : JSON.stringify(key);
}

/** Lines of a block value, each starting with `pad`. */
function yamlLines(value: Json, pad: string): string[] {
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isBlock(item)) {
        const inner = yamlLines(item, `${pad}  `);
        lines.push(`${pad}- ${inner[0].slice(pad.length + 2)}`, ...inner.slice(1));
      } else {
        lines.push(`${pad}- ${yamlScalar(item)}`);
      }
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (isBlock(item)) lines.push(`${pad}${yamlKey(key)}:`, ...yamlLines(item, `${pad}  `));
      else lines.push(`${pad}${yamlKey(key)}: ${yamlScalar(item)}`);
    }
  } else {
    lines.push(`${pad}${yamlScalar(value)}`);
  }
  return lines;
}
