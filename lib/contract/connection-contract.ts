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
  /**
   * Whether the sentinels require a password (`requirepass`), published as `REDIS_SENTINEL_AUTH`:
   * clients must then send AUTH to the sentinels too (`sentinelPassword`, else the Redis password).
   * A SentinelRedis's sentinels always do, with the Redis password.
   * @default true
   */
  readonly sentinelAuth?: boolean;
  /** Whether the data members and sentinels speak TLS (`REDIS_TLS`). @default false */
  readonly tls?: boolean;
  /**
   * With tls: the Secret, in `namespace`, whose `ca.crt` signs the members' and sentinels'
   * certificates, published as `REDIS_TLS_CA_SECRET` (`<namespace>/<name>`). @default none
   */
  readonly tlsCaSecretName?: string;
  /**
   * With tls, when Terraform knows it: the CA certificate (PEM), published as the ConfigMap's
   * `ca.crt` (a CA certificate is not a secret). @default none
   */
  readonly tlsCaCertificatePem?: string;
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

/**
 * A Secret holding only the password (key `password`; `sentinel-password` too when the sentinels'
 * differs), for applications in other namespaces, which cannot read the topology's own Secret.
 */
export interface PasswordSecretOptions {
  /** Secret name (a DNS-1123 subdomain). */
  readonly name: string;
  /** Namespaces to publish into. @default wherever the connection ConfigMap is published */
  readonly namespaces?: string[];
}

/** The key of the password in a published password Secret. */
export const PASSWORD_SECRET_KEY = 'password';
/** The key of the sentinels' password, when it differs from the Redis password. */
export const SENTINEL_PASSWORD_SECRET_KEY = 'sentinel-password';

/**
 * Checks `passwordSecret` options under the prop name `prop`. `passwordKnown` says whether the
 * password is known to Terraform; `missing` says, when it is not, what to do instead.
 */
export function validatePasswordSecret(v: PropsValidator, prop: string, options: unknown, passwordKnown: boolean, missing: string): void {
  if (options === undefined) return;
  if (!v.required(prop, options, 'object', 'password Secret options { name, namespaces? }')) return;
  const o = options as PasswordSecretOptions;
  if (v.required(`${prop}.name`, o.name, 'string', 'a Secret name (DNS-1123 subdomain)')) {
    v.check(`${prop}.name`, o.name, isDnsSubdomain, 'a Secret name (DNS-1123 subdomain)');
  }
  validateNamespaces(v, `${prop}.namespaces`, o.namespaces);
  if (!passwordKnown) v.fail(prop, options, missing);
}

/**
 * The password Secrets, one per namespace (construct ids `PasswordSecret`, `PasswordSecret2`, ...:
 * they count the namespaces, never name them), each claimed in the stack's registry.
 */
export function publishPasswordSecrets(scope: Construct, options: PasswordSecretOptions, defaultNamespaces: string[], labels: Record<string, string>,
  password: string, sentinelPassword?: string): SecretV1[] {
  const data: Record<string, string> = { [PASSWORD_SECRET_KEY]: password };
  if (sentinelPassword !== undefined && sentinelPassword !== password) data[SENTINEL_PASSWORD_SECRET_KEY] = sentinelPassword;
  return (options.namespaces ?? defaultNamespaces).map((ns, i) => new SecretV1(scope, i === 0 ? 'PasswordSecret' : `PasswordSecret${i + 1}`, kubernetesObject(scope, 'Secret', {
    metadata: { name: options.name, namespace: ns, labels },
    type: 'Opaque',
    data,
  })));
}

export interface ConnectionContractProps {
  readonly details: SentinelConnectionDetails;
  /**
   * The Elastisys ConfigMap (`REDIS_CLUSTER_NAME`, `REDIS_SENTINEL_HOST`, `REDIS_SENTINEL_PORT`,
   * `REDIS_SENTINEL_MASTER_NAME`, `REDIS_SENTINEL_AUTH`, `REDIS_TLS`; with TLS also
   * `REDIS_TLS_CA_SECRET` and `ca.crt` where known). Never a secret. `false` leaves it out.
   * @default published in the topology's namespace
   */
  readonly elastisysConfigMap?: ElastisysConfigMapOptions | false;
  /**
   * The 3scale Secret (`URL`, `SENTINEL_HOSTS`, `SENTINEL_ROLE`). Carries the password.
   * @default not published
   */
  readonly threeScaleSecret?: ThreeScaleSecretOptions;
  /**
   * A Secret with the password (key `password`), for applications in other namespaces. Needs a
   * password Terraform knows (`details.password`).
   * @default not published
   */
  readonly passwordSecret?: PasswordSecretOptions;
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
  /** The 3scale Secrets, one per namespace. */
  public readonly secrets: SecretV1[] = [];
  /** The password Secrets, one per namespace. */
  public readonly passwordSecrets: SecretV1[] = [];
  /** Every namespace a ConfigMap or Secret of this contract is published into, each once. */
  public readonly namespaces: string[] = [];

  constructor(scope: Construct, id: string, props: ConnectionContractProps) {
    super(scope, id);
    const v = new PropsValidator(this);
    // JavaScript callers without details get the message, never a TypeError.
    if (!v.required('props', props, 'object', 'a ConnectionContractProps object')) v.throwIfInvalid();
    if (!v.required('details', props.details, 'object', 'the topology\'s SentinelConnectionDetails')) v.throwIfInvalid();
    const d = props.details;
    const sentinels = d.sentinels ?? true;
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
    validatePasswordSecret(v, 'passwordSecret', props.passwordSecret, d.password !== undefined,
      'only with a password Terraform knows (details.password; a SentinelRedis with RedisAuth.generated()): with RedisAuth.fromExistingSecret the password is in your Secret, which Terraform never reads; copy that Secret into the application namespaces yourself');
    v.type('details.sentinelAuth', d.sentinelAuth, 'boolean', 'true or false');
    if (v.type('details.tls', d.tls, 'boolean', 'true or false') && d.tls === true && sentinels) {
      if (d.tlsCaSecretName === undefined && d.tlsCaCertificatePem === undefined) {
        v.fail('details.tlsCaSecretName', undefined, 'the Secret whose ca.crt signs the topology\'s certificates, or details.tlsCaCertificatePem, when details.tls is true: clients need the CA');
      }
    }
    v.string('details.tlsCaSecretName', d.tlsCaSecretName, isDnsSubdomain, 'a Secret name');
    if (v.type('details.tlsCaCertificatePem', d.tlsCaCertificatePem, 'string', 'a PEM certificate')) {
      v.check('details.tlsCaCertificatePem', d.tlsCaCertificatePem, (p) => /-----BEGIN CERTIFICATE-----/.test(p), 'a PEM certificate (-----BEGIN CERTIFICATE-----)');
    }
    v.check('outputPrefix', props.outputPrefix, (p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p), 'letters, digits and underscores, not starting with a digit');
    v.type('outputs', props.outputs, 'boolean', 'true or false');
    if (!sentinels && d.redisHost === undefined) v.fail('details.redisHost', undefined, 'the data member\'s host when sentinels do not run');
    v.throwIfInvalid();

    const labels = { 'app.kubernetes.io/managed-by': 'redis-topologies', 'app.kubernetes.io/instance': d.clusterName, 'app.kubernetes.io/component': 'connection' };
    const redisPort = d.redisPort ?? 6379;

    const tls = d.tls ?? false;
    const sentinelAuth = d.sentinelAuth ?? true;

    // Construct ids count the namespaces (never their names, which may be Terraform tokens).
    const cmNamespaces = cm ? cm.namespaces ?? [d.namespace] : [d.namespace];
    const publishedInto = (list: readonly string[]) => list.forEach((ns) => { if (!this.namespaces.includes(ns)) this.namespaces.push(ns); });
    if (cm) publishedInto(cmNamespaces);
    if (cm) {
      // No secret here: flags and names only. The password is in the Secrets below.
      const data: Record<string, string> = {
        REDIS_CLUSTER_NAME: d.clusterName,
        REDIS_SENTINEL_HOST: d.sentinelServiceHost,
        REDIS_SENTINEL_PORT: String(d.sentinelPort),
        REDIS_SENTINEL_MASTER_NAME: d.masterName,
        REDIS_SENTINEL_AUTH: String(sentinelAuth),
        REDIS_TLS: String(tls),
        ...(tls && d.tlsCaSecretName !== undefined ? { REDIS_TLS_CA_SECRET: `${d.namespace}/${d.tlsCaSecretName}` } : {}),
        ...(tls && d.tlsCaCertificatePem !== undefined ? { 'ca.crt': d.tlsCaCertificatePem } : {}),
      };
      cmNamespaces.forEach((ns, i) => {
        this.configMaps.push(new ConfigMapV1(this, i === 0 ? 'ElastisysConfigMap' : `ElastisysConfigMap${i + 1}`, kubernetesObject(this, 'ConfigMap', {
          metadata: { name: cm.name ?? `${d.clusterName}-redis-config`, namespace: ns, labels },
          data,
        })));
      });
    }

    if (props.passwordSecret) {
      this.passwordSecrets.push(...publishPasswordSecrets(this, props.passwordSecret, cmNamespaces, labels, d.password!, sentinelAuth ? d.sentinelPassword : undefined));
      publishedInto(props.passwordSecret.namespaces ?? cmNamespaces);
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
      publishedInto(sec.namespaces ?? [d.namespace]);
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
