import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { deploymentV1Binding } from '../core/bindings';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { AccessClient, AccessEgress, AccessGrant, AccessPolicy, AccessTarget, ClientAccessProps, MetricsAccessOptions } from '../access/access-policy';
import { isPrivateCidr } from '../access/cidr';
import { Annotations } from '../core/cdktf';
import { checksumAnnotations } from '../core/checksum';
import { selectorLabels, standardLabels } from '../core/labels';
import { childName, isDnsLabel } from '../core/names';
import { DNS_NAME_ALLOWED, IMAGE_ALLOWED, isDnsName, isImage, validatePodPorts, validateResources } from '../core/rules';
import { placement, preStopHook, Spread, validatePlacement, WorkloadPlacementProps } from '../core/pod-template';
import { AUTOMOUNT_SERVICE_ACCOUNT_TOKEN, HAPROXY_UID, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/pod-security';
import { PropsValidator } from '../core/validation';
import { IRedisDataMembers } from '../endpoint';
import { Availability, AVAILABILITY_FACTORIES } from '../core/availability';
import { PORTAL_PATHS, PortalModel, portalTerminationGraceSeconds, renderHaproxyCfg, renderPortalEntrypoint, renderPortalPreStop } from './haproxy-cfg';
import { PORTAL_CERTIFICATES_FACTORIES, PORTAL_SERVICE_TYPE_FACTORIES, PortalCertificates, PortalHealthCheckOptions, PortalServiceType, TLS_VERSION_FACTORIES, TlsVersion } from './options';
import { PortalConnection, PortalConnectionOptions } from './portal-connection';
import { PortalTls } from './portal-tls';
import { kubernetesObject } from '../core/registry';

export const PORTAL_PART_OF = 'redis-portal';
export const PORTAL_DEFAULT_PORT = 6380;
export const PORTAL_METRICS_PORT = 8404;
/**
 * After SIGTERM, how long a portal's open client connections may go on (its listeners closed)
 * before HAProxy stops and closes them. Redis clients keep their connections until they are closed,
 * so longer only delays the stop; a second lets replies in flight reach their clients.
 */
export const PORTAL_STOP_SECONDS = 1;

export interface HaproxyPortalProps extends WorkloadPlacementProps, ClientAccessProps {
  /** The topology whose current primary the portal routes to (SentinelRedis, or any IRedisDataMembers). */
  readonly backend: IRedisDataMembers;
  /** Name of the portal's objects (the Service is reachable as `<name>.<namespace>`). @default '<backend name>-portal' */
  readonly name?: string;
  /** HIGH_AVAILABILITY needs at least 2 portals; DEVELOPMENT allows 1. @default Availability.HIGH_AVAILABILITY */
  readonly availability?: Availability;
  /** Number of HAProxy pods. @default 2 */
  readonly replicas?: number;
  /** Client-facing TLS port (unprivileged). @default 6380 */
  readonly port?: number;
  /** Lowest TLS version accepted. @default TlsVersion.TLS1_2 */
  readonly minTlsVersion?: TlsVersion;
  /** Server certificate source. @default PortalCertificates.selfSigned() */
  readonly certificates?: PortalCertificates;
  /** Extra DNS names for the server certificate (e.g. a load balancer's name). @default none */
  readonly extraDnsNames?: string[];
  /** How the Service is exposed. @default PortalServiceType.clusterIp() */
  readonly serviceType?: PortalServiceType;
  /** Role checks against the data members. @default 500 ms interval, fall 2, rise 1, 1000 ms timeout */
  readonly healthCheck?: PortalHealthCheckOptions;
  /** HAProxy threads per pod. @default 2 */
  readonly threads?: number;
  /** Maximum concurrent client connections per pod. @default 4096 */
  readonly maxConnections?: number;
  /** Idle timeout of client and server connections, in seconds (pub/sub subscribers idle longer are cut). @default 3600 */
  readonly clientTimeoutSeconds?: number;
  /** HAProxy's tune.bufsize in bytes. @default 16384 */
  readonly bufferSize?: number;
  /** How often each portal looks for a renewed certificate in its Secret and, if so, reloads gracefully. @default 30 */
  readonly certificateReloadSeconds?: number;
  /**
   * How long a portal that is being deleted (a rolling update, a node drain, an eviction) keeps
   * serving in its preStop hook before it closes its listeners: the time the cluster needs to take
   * it out of the Service's endpoints (kube-proxy on every node, or a load balancer), so new
   * connections already go to other portals. Its open connections are closed about a second after
   * that, and those clients reconnect to another portal. 0 removes the hook.
   * @default 5
   */
  readonly drainSeconds?: number;
  /** HAProxy's stats page on the metrics port. @default false */
  readonly statsPage?: boolean;
  /** @default 'haproxy:2.8.14' (the official image; runs as uid 99) */
  readonly image?: string;
  /** @default '128Mi' */
  readonly memoryLimit?: string;
  /** @default '100m' */
  readonly cpuRequest?: string;
  /** @default no CPU limit */
  readonly cpuLimit?: string;
  /** Metrics scraping from a monitoring namespace. @default no scraping allowed */
  readonly metrics?: MetricsAccessOptions;
  /** Where host, port, TLS flag and CA are published. @default a ConfigMap in the portal's namespace and Terraform outputs */
  readonly connection?: PortalConnectionOptions;
}

/**
 * Two or more HAProxy pods behind one Service that terminate TLS 1.2+ and route every client
 * connection to the data member that itself reports `role:master`. No pod labels are involved,
 * so a failover can never leave the Service pointing at a replica.
 */
export class HaproxyPortal extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  /** The Service's in-cluster DNS name. */
  public readonly host: string;
  public readonly port: number;
  public readonly model: PortalModel;
  public readonly configFiles: Readonly<Record<string, string>>;
  public readonly scriptFiles: Readonly<Record<string, string>>;
  public readonly deployment: DeploymentV1;
  public readonly service: ServiceV1;
  public readonly tls: PortalTls;
  public readonly accessPolicy: AccessPolicy;
  public readonly accessTarget: AccessTarget;
  public readonly connection: PortalConnection;

  constructor(scope: Construct, id: string, props: HaproxyPortalProps) {
    super(scope, id);
    // Everything is checked before anything is derived (JavaScript callers included).
    this.validate(props);
    const backend = props.backend;
    const availability = props.availability ?? Availability.HIGH_AVAILABILITY;
    const ha = availability.highlyAvailable;
    const name = props.name ?? childName(backend.name, 'portal');
    const namespace = backend.namespace;
    const replicas = props.replicas ?? 2;
    const port = props.port ?? PORTAL_DEFAULT_PORT;
    const certificates = props.certificates ?? PortalCertificates.selfSigned();
    const serviceType = props.serviceType ?? PortalServiceType.clusterIp();
    const clusterDomain = props.clusterDomain ?? 'cluster.local';

    this.name = name;
    this.namespace = namespace;
    this.port = port;
    this.host = `${name}.${namespace}.svc.${clusterDomain}`;
    const check = props.healthCheck ?? {};
    this.model = {
      name,
      namespace,
      port,
      metricsPort: PORTAL_METRICS_PORT,
      statsPage: props.statsPage ?? false,
      minTlsVersion: (props.minTlsVersion ?? TlsVersion.TLS1_2).value,
      backends: backend.dataMemberHosts.map((host) => ({ name: host.split('.')[0], host, port: backend.redisPort })),
      backendTls: backend.tlsEnabled,
      passwordKey: backend.auth.passwordKey,
      check: { intervalMs: check.intervalMs ?? 250, fall: check.fall ?? 2, rise: check.rise ?? 1, timeoutMs: check.timeoutMs ?? 1000 },
      threads: props.threads ?? 2,
      maxConnections: props.maxConnections ?? 4096,
      clientTimeoutSeconds: props.clientTimeoutSeconds ?? 3600,
      bufferSize: props.bufferSize ?? 16384,
      certificateReloadSeconds: props.certificateReloadSeconds ?? 30,
      drainSeconds: props.drainSeconds ?? 5,
      stopSeconds: PORTAL_STOP_SECONDS,
    };
    const m = this.model;

    // --- certificates ----------------------------------------------------------------------
    const dnsNames = [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, this.host, ...(props.extraDnsNames ?? [])];
    this.tls = new PortalTls(this, 'Tls', { name, namespace, certificates, commonName: this.host, dnsNames, labels: this.labels('tls') });

    // --- rendered configuration ------------------------------------------------------------
    this.configFiles = { 'haproxy.cfg': renderHaproxyCfg(m) };
    this.scriptFiles = {
      'portal-entrypoint.sh': renderPortalEntrypoint(m),
      ...(m.drainSeconds > 0 ? { 'portal-prestop.sh': renderPortalPreStop(m) } : {}),
    };
    const configMap = new ConfigMapV1(this, 'Config', kubernetesObject(this, 'ConfigMap', {
      metadata: { name: childName(name, 'config'), namespace, labels: this.labels('config') },
      data: { ...this.configFiles, ...this.scriptFiles },
    }));

    // --- workload --------------------------------------------------------------------------
    const id0 = this.identity('portal');
    const selector = selectorLabels(id0);
    const runAs = { uid: HAPROXY_UID };
    const memory = props.memoryLimit ?? '128Mi';
    const volumes: any[] = [
      { name: 'config', configMap: { name: configMap.metadata.name, defaultMode: '0555' } },
      { name: 'auth', secret: { secretName: backend.auth.secretName, defaultMode: '0440', items: [{ key: backend.auth.passwordKey, path: backend.auth.passwordKey }] } },
      { name: 'tls', secret: { secretName: this.tls.secretName, defaultMode: '0440', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] } },
      { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
      { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
    ];
    const mounts: any[] = [
      { name: 'config', mountPath: PORTAL_PATHS.config, readOnly: true },
      { name: 'auth', mountPath: PORTAL_PATHS.auth, readOnly: true },
      { name: 'tls', mountPath: PORTAL_PATHS.tls, readOnly: true },
      { name: 'run', mountPath: PORTAL_PATHS.run },
      { name: 'tmp', mountPath: PORTAL_PATHS.tmp },
    ];
    if (backend.tlsEnabled) {
      volumes.push({ name: 'backend-tls', secret: { secretName: backend.tlsSecretName!, defaultMode: '0440', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
      mounts.push({ name: 'backend-tls', mountPath: PORTAL_PATHS.backendTls, readOnly: true });
    }
    const nodeSpread = props.nodeSpread ?? (ha ? Spread.REQUIRED : Spread.PREFERRED);
    const zoneSpread = props.zoneSpread ?? Spread.PREFERRED;
    const DeploymentV1 = deploymentV1Binding();
    this.deployment = new DeploymentV1(this, 'Deployment', kubernetesObject(this, 'Deployment', {
      metadata: { name, namespace, labels: standardLabels(id0), annotations: { 'redis-topologies.io/availability': availability.value } },
      spec: {
        replicas: String(replicas),
        selector: { matchLabels: selector },
        // One portal at a time, never a surge pod that strict anti-affinity could not place.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0', maxUnavailable: '1' } },
        template: {
          metadata: { labels: standardLabels(id0), annotations: { ...checksumAnnotations(this.configFiles, this.scriptFiles), ...this.tls.rolloutAnnotations } },
          spec: {
            automountServiceAccountToken: AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
            enableServiceLinks: false,
            // The preStop drain, the bounded stop after SIGTERM, and a margin.
            terminationGracePeriodSeconds: portalTerminationGraceSeconds(m),
            securityContext: restrictedPodSecurityContext(runAs),
            ...placement(selector, { zoneSpread, nodeSpread, nodeSelector: props.nodeSelector, tolerations: props.tolerations }),
            container: [{
              name: 'haproxy',
              image: props.image ?? 'haproxy:2.8.14',
              command: ['sh', `${PORTAL_PATHS.config}/portal-entrypoint.sh`],
              env: [{ name: 'HOME', value: PORTAL_PATHS.tmp }],
              port: [
                { name: 'redis-tls', containerPort: port },
                { name: 'metrics', containerPort: PORTAL_METRICS_PORT },
              ],
              resources: {
                requests: { memory, cpu: props.cpuRequest ?? '100m' },
                limits: { memory, ...(props.cpuLimit ? { cpu: props.cpuLimit } : {}) },
              },
              volumeMount: mounts,
              securityContext: restrictedContainerSecurityContext(runAs),
              ...(m.drainSeconds > 0 ? { lifecycle: preStopHook(['sh', `${PORTAL_PATHS.config}/portal-prestop.sh`]) } : {}),
              readinessProbe: { tcpSocket: [{ port: 'redis-tls' }], periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 2 },
              livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
            }],
            volume: volumes,
          },
        },
      },
    }));
    if (replicas >= 2) {
      new PodDisruptionBudgetV1(this, 'Pdb', kubernetesObject(this, 'PodDisruptionBudget', {
        metadata: { name, namespace, labels: standardLabels(id0) },
        spec: { maxUnavailable: '1', selector: { matchLabels: selector } },
      }));
    }
    this.service = new ServiceV1(this, 'Service', kubernetesObject(this, 'Service', {
      metadata: { name, namespace, labels: standardLabels(id0), annotations: { ...serviceType.annotations } },
      spec: {
        type: serviceType.type,
        selector,
        port: [{ name: 'redis-tls', port, targetPort: 'redis-tls' }, { name: 'metrics', port: PORTAL_METRICS_PORT, targetPort: 'metrics' }],
        ...(serviceType.sourceRanges.length > 0 ? { loadBalancerSourceRanges: [...serviceType.sourceRanges] } : {}),
      },
    }));
    if (!ha) {
      Annotations.of(this).addWarning(`${this.node.path}: development availability: ${replicas} portal(s), no redundancy. Not for production.`);
    }

    // --- access ----------------------------------------------------------------------------
    this.accessTarget = { namespace, name, podSelector: selector, clientPorts: [port] };
    // Built before the access policy, so bad namespaces in the connection options are reported
    // by the construct that publishes into them.
    this.connection = new PortalConnection(this, 'Connection', {
      name,
      namespace,
      host: this.host,
      port,
      caCertificatePem: this.tls.caCertificatePem,
      labels: this.labels('connection'),
      ...props.connection,
      // After the spread: only the backend says what the password is.
      password: backend.password,
    });
    // Publishing the connection details into an application namespace also admits that
    // namespace to the portal: one step, so the application can use what it was given.
    const published = this.connection.namespaces.filter((ns) => ns !== namespace);
    this.accessPolicy = new AccessPolicy(this, 'Access', {
      ...this.accessTarget,
      peerPorts: [],
      clients: [...(props.clients ?? []), ...published.map((ns) => AccessClient.namespace(ns))],
      accessLabel: props.accessLabel,
      dns: props.dns,
      // HAProxy always exports metrics; scraping is admitted only when asked for.
      metricsPorts: props.metrics ? [PORTAL_METRICS_PORT] : undefined,
      metrics: props.metrics,
      egress: [AccessEgress.toNamespace(namespace, [backend.redisPort], backend.accessTarget.podSelector)],
    });
    // The data members admit the portal pods on the Redis port only.
    // Named after the portal: several portals may front one topology.
    new AccessGrant(this, 'BackendGrant', {
      target: backend.accessTarget,
      clients: [AccessClient.pods(selector)],
      ports: [backend.redisPort],
      name: childName(backend.name, `allow-${name}`),
    });

  }

  private identity(component: string) {
    return { name: 'haproxy', instance: this.name, component, partOf: PORTAL_PART_OF };
  }

  private labels(component: string): Record<string, string> {
    return standardLabels(this.identity(component));
  }

  private validate(props: HaproxyPortalProps): void {
    const v = new PropsValidator(this);
    if (!v.required('props', props, 'object', 'a HaproxyPortalProps object')) v.throwIfInvalid();
    const BACKEND = 'a topology to route to (a SentinelRedis, or any IRedisDataMembers: name, namespace, dataMemberHosts, redisPort, auth, accessTarget)';
    if (v.required('backend', props.backend, 'object', BACKEND)) {
      const b = props.backend;
      const ok = typeof b.name === 'string' && typeof b.namespace === 'string' && Array.isArray(b.dataMemberHosts) && b.dataMemberHosts.length > 0
        && typeof b.redisPort === 'number' && typeof b.auth?.secretName === 'string' && typeof b.accessTarget === 'object';
      if (!ok) v.fail('backend', b, BACKEND);
      else if (b.tlsEnabled && !b.tlsSecretName) v.fail('backend.tlsSecretName', undefined, 'the Secret with the data members\' ca.crt: the backend has TLS on');
    }
    v.option('availability', props.availability, Availability, AVAILABILITY_FACTORIES);
    const ha = !(props.availability instanceof Availability) || props.availability.highlyAvailable;
    const NAME = 'a DNS-1123 label of at most 50 characters';
    if (v.type('name', props.name, 'string', NAME) && v.known('name', props.name, 'the certificate\'s DNS names and the haproxy.cfg are derived from it')) {
      v.check('name', props.name, (n) => isDnsLabel(n, 50), NAME);
      if (props.name !== undefined && props.name === props.backend?.name) v.fail('name', props.name, 'a name other than the backend\'s (their Services and PodDisruptionBudgets would collide)');
    }
    if (ha) {
      v.check('replicas', props.replicas, (r) => Number.isInteger(r) && r >= 2 && r <= 20,
        'an integer from 2 to 20 (one portal is a single point of failure; use Availability.DEVELOPMENT for a development setup)');
    } else {
      v.integer('replicas', props.replicas, 1, 20);
    }
    validatePodPorts(v, { port: props.port }, { 'the metrics port': PORTAL_METRICS_PORT });
    const hc = props.healthCheck ?? {};
    if (v.type('healthCheck', props.healthCheck, 'object', 'health check options { intervalMs?, fall?, rise?, timeoutMs? }')) {
      v.integer('healthCheck.intervalMs', hc.intervalMs, 100, 60000);
      v.integer('healthCheck.fall', hc.fall, 1, 10);
      v.integer('healthCheck.rise', hc.rise, 1, 10);
      v.integer('healthCheck.timeoutMs', hc.timeoutMs, 100, 60000);
    }
    v.integer('threads', props.threads, 1, 64);
    v.integer('maxConnections', props.maxConnections, 16, 1000000);
    v.integer('clientTimeoutSeconds', props.clientTimeoutSeconds, 1, 7 * 24 * 3600);
    v.integer('certificateReloadSeconds', props.certificateReloadSeconds, 5, 3600);
    v.integer('drainSeconds', props.drainSeconds, 0, 300);
    v.check('bufferSize', props.bufferSize, (b) => Number.isInteger(b) && b >= 4096 && b <= 1048576, 'an integer from 4096 to 1048576 bytes');
    v.string('image', props.image, isImage, IMAGE_ALLOWED);
    validateResources(v, { cpuRequest: props.cpuRequest, cpuLimit: props.cpuLimit, memoryLimit: props.memoryLimit }, {});
    validatePlacement(v, props);
    v.option('minTlsVersion', props.minTlsVersion, TlsVersion, TLS_VERSION_FACTORIES);
    if (v.type('extraDnsNames', props.extraDnsNames, 'array', 'a list of DNS names')) {
      (props.extraDnsNames ?? []).forEach((n, i) => v.check(`extraDnsNames[${i}]`, n, (x) => typeof x === 'string' && isDnsName(x, true), `${DNS_NAME_ALLOWED} (a leading "*." allowed)`));
    }
    if (v.option('serviceType', props.serviceType, PortalServiceType, PORTAL_SERVICE_TYPE_FACTORIES)) {
      (props.serviceType ?? PortalServiceType.clusterIp()).sourceRanges.forEach((c, i) => v.check(`serviceType.sourceRanges[${i}]`, c, isPrivateCidr,
        'a private IPv4 CIDR inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16'));
    }
    if (v.option('certificates', props.certificates, PortalCertificates, PORTAL_CERTIFICATES_FACTORIES)) {
      PortalTls.validate(v, props.certificates ?? PortalCertificates.selfSigned());
    }
    v.type('statsPage', props.statsPage, 'boolean', 'true or false');
    v.type('connection', props.connection, 'object', 'connection options { namespaces?, outputs?, outputPrefix?, passwordSecret? }');
    v.throwIfInvalid();
  }
}
