import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { TerraformOutput, Token } from '../core/cdktf';
import { isDnsSubdomain } from '../core/names';
import { validateNamespaces } from '../core/rules';
import { PropsValidator } from '../core/validation';
import { terraformLiterals } from '../core/escaping';
import { claimOutput, kubernetesObject } from '../core/registry';

/** What a client needs to reach a Sentinel-managed Redis. */
export interface SentinelConnectionDetails {
  /** The topology's name (`REDIS_CLUSTER_NAME`). */
  readonly clusterName: string;
  /** Namespace the topology runs in. */
  readonly namespace: string;
  /** Sentinel master group name, e.g. `mymaster`. */
  readonly masterName: string;
  /** The sentinel Service, cluster-scoped as `<service>.<namespace>` (resolves from any namespace). */
  readonly sentinelServiceHost: string;
  /** Sentinel port, usually 26379. */
  readonly sentinelPort: number;
  /** Every sentinel pod's stable DNS name. */
  readonly sentinelPodHosts: string[];
  /** The Redis password. May be a Terraform token; it only ever goes into Secrets and sensitive outputs. */
  readonly password?: string;
  /** The sentinels' password, when sentinels require auth. @default same as password */
  readonly sentinelPassword?: string;
  /**
   * Whether sentinels run. Without them (development mode) clients connect to `redisHost`
   * directly: no sentinel details are published anywhere. @default true
   */
  readonly sentinels?: boolean;
  /** The data member's host, for clients without sentinels. @default none */
  readonly redisHost?: string;
  /** The data members' Redis port. @default 6379 */
  readonly redisPort?: number;
}

/** The role a 3scale-style client asks Sentinel for. */
export class SentinelRole {
  /** The current primary. */
  public static readonly MASTER = new SentinelRole('master');
  /** A replica (read-only clients). */
  public static readonly SLAVE = new SentinelRole('slave');
  private constructor(public readonly value: string) {}

  /** Makes the class nominal: an object literal with the same fields is not a SentinelRole. */
  private readonly optionClass = 'SentinelRole';

  public toString(): string {
    return `${this.optionClass}(${this.value})`;
  }
}

export interface ElastisysConfigMapOptions {
  /** ConfigMap name. @default '<clusterName>-redis-config' */
  readonly name?: string;
  /** Namespaces to publish into (e.g. application namespaces). @default the topology's namespace */
  readonly namespaces?: string[];
}

export interface ThreeScaleSecretOptions {
  /** Secret name; 3scale reads `system-redis` and `backend-redis`. @default '<clusterName>-redis' */
  readonly name?: string;
  /** Namespaces to publish into. @default the topology's namespace */
  readonly namespaces?: string[];
  /** `SENTINEL_ROLE`. @default SentinelRole.MASTER */
  readonly role?: SentinelRole;
  /** Logical database in `URL`. @default none (database 0) */
  readonly database?: number;
}

export interface ConnectionContractProps {
  readonly details: SentinelConnectionDetails;
  /**
   * The Elastisys ConfigMap (`REDIS_CLUSTER_NAME`, `REDIS_SENTINEL_HOST`, `REDIS_SENTINEL_PORT`).
   * `false` leaves it out.
   * @default published in the topology's namespace
   */
  readonly elastisysConfigMap?: ElastisysConfigMapOptions | false;
  /**
   * The 3scale Secret (`URL`, `SENTINEL_HOSTS`, `SENTINEL_ROLE`). Carries the password.
   * @default not published
   */
  readonly threeScaleSecret?: ThreeScaleSecretOptions;
  /** Publish Terraform outputs. @default true */
  readonly outputs?: boolean;
  /**
   * Prefix of the output names. Output names are unique per stack (two topologies with one name
   * in two namespaces keep their own).
   * @default 'redis_<namespace>_<clusterName>' with '-' as '_' ('redis_<clusterName>' when the namespace is a Terraform token)
   */
  readonly outputPrefix?: string;
}

/** The default prefix of a topology's Terraform outputs (see ConnectionContractProps.outputPrefix). */
export function defaultOutputPrefix(namespace: string, name: string): string {
  const parts = Token.isUnresolved(namespace) ? [name] : [namespace, name];
  return ['redis', ...parts].join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/** `redis://[:password@]host:port[/db]`: a direct URL, for topologies without sentinels. */
export function directRedisUrl(host: string, port: number, password?: string, database?: number): string {
  const auth = password !== undefined ? `:${password}@` : '';
  const db = database !== undefined ? `/${database}` : '';
  return `redis://${auth}${host}:${port}${db}`;
}

/** `redis://[:password@]group[/db]`: the 3scale URL, naming the Sentinel group rather than a host. */
export function threeScaleUrl(masterName: string, password?: string, database?: number): string {
  const auth = password !== undefined ? `:${password}@` : '';
  const db = database !== undefined ? `/${database}` : '';
  return `redis://${auth}${masterName}${db}`;
}

/** Comma-separated `redis://[:password@]host:port` entries, one per sentinel. */
export function threeScaleSentinelHosts(hosts: string[], port: number, password?: string): string {
  const auth = password !== undefined ? `:${password}@` : '';
  return hosts.map((h) => `redis://${auth}${h}:${port}`).join(',');
}

/**
 * Publishes a topology's connection details the ways its clients expect: the Elastisys ConfigMap
 * (no secrets), the 3scale Secret (with the password), and Terraform outputs (sensitive when they
 * carry a secret). ConfigMaps and Secrets can go into other namespaces for the applications there.
 */
export class ConnectionContract extends Construct {
  /** The ConfigMaps, one per namespace. */
  public readonly configMaps: ConfigMapV1[] = [];
  /** The Secrets, one per namespace. */
  public readonly secrets: SecretV1[] = [];

  constructor(scope: Construct, id: string, props: ConnectionContractProps) {
    super(scope, id);
    const d = props.details;
    const sentinels = d.sentinels ?? true;
    const v = new PropsValidator(this);
    const cm = props.elastisysConfigMap === false ? undefined : props.elastisysConfigMap ?? (sentinels ? {} : undefined);
    const sec = props.threeScaleSecret;
    if (props.elastisysConfigMap === false || v.type('elastisysConfigMap', props.elastisysConfigMap, 'object', 'ConfigMap options { name?, namespaces? } or false')) {
      v.check('elastisysConfigMap.name', cm?.name, isDnsSubdomain, 'a DNS-1123 subdomain');
      validateNamespaces(v, 'elastisysConfigMap.namespaces', cm?.namespaces);
      if (!sentinels && props.elastisysConfigMap) v.fail('elastisysConfigMap', props.elastisysConfigMap, 'false without sentinels: its REDIS_SENTINEL_HOST would name a sentinel that does not run');
    }
    if (v.type('threeScaleSecret', sec, 'object', 'Secret options { name?, namespaces?, role?, database? }') && sec) {
      v.check('threeScaleSecret.name', sec.name, isDnsSubdomain, 'a DNS-1123 subdomain');
      validateNamespaces(v, 'threeScaleSecret.namespaces', sec.namespaces);
      v.integer('threeScaleSecret.database', sec.database, 0, 15);
      v.option('threeScaleSecret.role', sec.role, SentinelRole, 'SentinelRole.MASTER, SentinelRole.SLAVE');
      if (d.password === undefined) v.fail('threeScaleSecret', 'no password', 'a topology with auth (details.password) to build URL');
    }
    v.check('outputPrefix', props.outputPrefix, (p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p), 'letters, digits and underscores, not starting with a digit');
    v.type('outputs', props.outputs, 'boolean', 'true or false');
    if (!sentinels && d.redisHost === undefined) v.fail('details.redisHost', undefined, 'the data member\'s host when sentinels do not run');
    v.throwIfInvalid();

    const labels = { 'app.kubernetes.io/managed-by': 'redis-topologies', 'app.kubernetes.io/instance': d.clusterName, 'app.kubernetes.io/component': 'connection' };
    const redisPort = d.redisPort ?? 6379;

    // Construct ids count the namespaces (never their names, which may be Terraform tokens).
    if (cm) {
      (cm.namespaces ?? [d.namespace]).forEach((ns, i) => {
        this.configMaps.push(new ConfigMapV1(this, i === 0 ? 'ElastisysConfigMap' : `ElastisysConfigMap${i + 1}`, kubernetesObject(this, 'ConfigMap', {
          metadata: { name: cm.name ?? `${d.clusterName}-redis-config`, namespace: ns, labels },
          data: {
            REDIS_CLUSTER_NAME: d.clusterName,
            REDIS_SENTINEL_HOST: d.sentinelServiceHost,
            REDIS_SENTINEL_PORT: String(d.sentinelPort),
          },
        })));
      });
    }

    if (sec) {
      const role = sec.role ?? SentinelRole.MASTER;
      const data: Record<string, string> = sentinels
        ? {
          URL: threeScaleUrl(d.masterName, d.password, sec.database),
          SENTINEL_HOSTS: threeScaleSentinelHosts(d.sentinelPodHosts, d.sentinelPort, d.sentinelPassword ?? d.password),
          SENTINEL_ROLE: role.value,
        }
        // Without sentinels, 3scale connects to the URL's host itself.
        : { URL: directRedisUrl(d.redisHost!, redisPort, d.password, sec.database), SENTINEL_HOSTS: '' };
      (sec.namespaces ?? [d.namespace]).forEach((ns, i) => {
        this.secrets.push(new SecretV1(this, i === 0 ? 'ThreeScaleSecret' : `ThreeScaleSecret${i + 1}`, kubernetesObject(this, 'Secret', {
          metadata: { name: sec.name ?? `${d.clusterName}-redis`, namespace: ns, labels },
          type: 'Opaque',
          data,
        })));
      });
    }

    if (props.outputs !== false) {
      const prefix = props.outputPrefix ?? defaultOutputPrefix(d.namespace, d.clusterName);
      const out = (key: string, value: string | number | string[], description: string, sensitive = false) => {
        claimOutput(this, `${prefix}_${key}`);
        const o = new TerraformOutput(this, key, terraformLiterals({ value, description, sensitive }));
        o.overrideLogicalId(`${prefix}_${key}`);
      };
      out('cluster_name', d.clusterName, 'Topology name (REDIS_CLUSTER_NAME)');
      if (sentinels) {
        out('master_name', d.masterName, 'Sentinel master group name');
        out('sentinel_host', d.sentinelServiceHost, 'Sentinel Service host, <service>.<namespace>');
        out('sentinel_port', d.sentinelPort, 'Sentinel port');
        out('sentinel_pod_hosts', d.sentinelPodHosts, 'Stable DNS names of the sentinel pods');
        if (d.password !== undefined) out('url', threeScaleUrl(d.masterName, d.password), 'redis://:password@group URL (sensitive)', true);
      } else {
        out('host', d.redisHost!, 'The Redis host (development mode: one member, no sentinels)');
        out('port', redisPort, 'The Redis port');
        if (d.password !== undefined) out('url', directRedisUrl(d.redisHost!, redisPort, d.password), 'redis://:password@host:port URL (sensitive)', true);
      }
    }
  }
}
