import { PortalCertificates } from '../portal/options';

/** Options of the enterprise cluster policy's proxy. */
export interface EnterprisePolicyOptions {
  /** The proxy listener's certificate (TLS 1.2+ at the listener). */
  readonly certificates: PortalCertificates;
  /** Proxy pods behind the one Service; at least 2. @default 2 */
  readonly replicas?: number;
  /** @default ENVOY_IMAGE */
  readonly image?: string;
  /** Proxy container memory limit (and request). @default '128Mi' */
  readonly memoryLimit?: string;
  /** Proxy container CPU request. @default '100m' */
  readonly cpuRequest?: string;
}

/** Options of the twemproxy policy's proxy. */
export interface TwemproxyPolicyOptions {
  /**
   * An image with nutcracker (twemproxy 0.5), a POSIX shell and getent: no official image exists;
   * build one, e.g. FROM debian:bookworm-slim with `apt-get install nutcracker`, pinned by digest.
   */
  readonly image: string;
  /**
   * Must be `true`: twemproxy has no TLS, so clients speak plain text to it inside the cluster's
   * network (the proxy admits only the clients the network policy names).
   */
  readonly acknowledgeNoTls: boolean;
  /** Proxy pods behind the one Service; at least 2. @default 2 */
  readonly replicas?: number;
  /** Proxy container memory limit (and request). @default '64Mi' */
  readonly memoryLimit?: string;
  /** Proxy container CPU request. @default '100m' */
  readonly cpuRequest?: string;
  /** Consecutive failures before a shard is ejected and its keys go to the others. @default 2 */
  readonly serverFailureLimit?: number;
  /** How long an ejected shard stays out, in ms. @default 10000 */
  readonly serverRetryTimeoutMilliseconds?: number;
}

/**
 * How clients reach the cluster, after Azure Managed Redis's cluster policies (seed 004). Made only
 * by the static factories.
 */
export class ClusterPolicy {
  /**
   * OSS: clients speak the Redis Cluster protocol to the members directly (one endpoint per member,
   * MOVED/ASK redirections with their stable DNS names). Best latency and throughput; multi-key
   * commands must keep their keys in one slot (hash tags `{...}`), else CROSSSLOT.
   */
  public static oss(): ClusterPolicy {
    return new ClusterPolicy('oss', undefined);
  }

  /**
   * Enterprise: one TLS endpoint through Envoy's redis_proxy, for clients that do not speak the
   * Cluster protocol. It splits DEL, EXISTS, TOUCH, UNLINK, MGET and MSET across slots; it has no
   * pub/sub and no blocking commands, and MULTI goes to the node of the first key. The proxy
   * reaches the members without TLS (Envoy's upstream TLS with AUTH is an open problem,
   * envoyproxy/envoy#8440): the members stay behind the network policy, which admits the proxy.
   */
  public static enterprise(options: EnterprisePolicyOptions): ClusterPolicy {
    return new ClusterPolicy('enterprise', options);
  }

  /**
   * twemproxy (3scale's pattern, seed 002): standalone shards without replicas behind nutcracker,
   * which spreads keys by consistent hashing (ketama over murmur, hash tags `{...}`). For caches
   * only: a shard that fails is ejected and its keys go to the other shards (misses, then new
   * writes there); no failover, no TLS, and many commands are not proxied
   * (TWEMPROXY_UNSUPPORTED_COMMANDS).
   */
  public static twemproxy(options: TwemproxyPolicyOptions): ClusterPolicy {
    return new ClusterPolicy('twemproxy', undefined, options);
  }

  /** Makes the class nominal: an object literal with the same fields is not a ClusterPolicy. */
  private readonly optionClass = 'ClusterPolicy';

  private constructor(
    /** `oss`, `enterprise` or `twemproxy`. */
    public readonly kind: 'oss' | 'enterprise' | 'twemproxy',
    /** The proxy's options (enterprise only). */
    public readonly enterpriseOptions: EnterprisePolicyOptions | undefined,
    /** The proxy's options (twemproxy only). */
    public readonly twemproxyOptions?: TwemproxyPolicyOptions,
  ) {}

  public toString(): string {
    return `${this.optionClass}.${this.kind}()`;
  }
}

/** The factories that make a ClusterPolicy, for validation messages. */
export const CLUSTER_POLICY_FACTORIES = 'ClusterPolicy.oss(), ClusterPolicy.enterprise(options), ClusterPolicy.twemproxy(options)';
