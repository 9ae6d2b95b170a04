import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { AccessClient, AccessPolicy, AccessTarget, ClientAccessProps, MetricsAccessOptions } from '../access/access-policy';
import { RedisAuth, RedisAuthSecretRef } from '../auth/redis-auth';
import { authSecret, validateAuth } from '../auth/auth-secret';
import { metricsSidecar, METRICS_PORT, redisDataContainer, redisPodEnv, redisPodMounts, redisPodVolumes } from '../redis/data-member';
import { Annotations } from '../core/cdktf';
import { checksumAnnotations } from '../core/checksum';
import { selectorLabels, standardLabels, topologySelector } from '../core/labels';
import { childName, isDnsLabel, isDnsSubdomain, resourceName } from '../core/names';
import { execProbe, placement, preStopHook, Spread, validatePlacement, WorkloadPlacementProps } from '../core/pod-template';
import { AUTOMOUNT_SERVICE_ACCOUNT_TOKEN, REDIS_UID, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/pod-security';
import { DEFAULT_MAXMEMORY_RATIO, maxmemoryBytes } from '../core/quantity';
import { IMAGE_ALLOWED, isImage, isMemory, validateNamespace, validateRatio, validateResources } from '../core/rules';
import { PropsValidator } from '../core/validation';
import { ConnectionContract, ElastisysConfigMapOptions, PasswordSecretOptions, ThreeScaleSecretOptions, validatePasswordSecret } from '../contract/connection-contract';
import { ISentinelRedis } from '../endpoint';
import { DataStorage } from '../storage/data-storage';
import { statefulSetClaimName } from '../storage/volume-claims';
import { dataMemberHost, SentinelRedisModel, sentinelHost } from './model';
import { PATHS } from '../redis/paths';
import { Availability, AVAILABILITY_FACTORIES } from '../core/availability';
import { AclPermissions, AclUser } from '../auth/acl';
import { EVICTION_POLICY_FACTORIES, EvictionPolicy, Persistence, PERSISTENCE_FACTORIES } from './options';
import { renderRedisConf } from './redis-conf';
import { renderAclRules } from '../redis/redis-conf';
import { renderSentinelConf, renderSentinelMasterConf } from './sentinel-conf';
import { podChecksumDocuments, renderScripts, sentinelPreStopSeconds } from './scripts';
import { kubernetesObject } from '../core/registry';
import { BackupSchedule } from '../backup/backup-schedule';
import { Backups, BACKUPS_FACTORIES, BackupSource, RESTORE_FROM_FACTORIES, RestoreFrom } from '../backup/backups';
import { restorePodPieces } from '../backup/restore';

/** Part-of label value of every SentinelRedis object. */
export const SENTINEL_REDIS_PART_OF = 'sentinel-redis';
const REDIS_PORT = 6379;
const SENTINEL_PORT = 26379;

/** @internal A data engine other than Redis, as FlashTierRedis hands it to SentinelRedis. */
export interface DataEngine {
  readonly kind: 'kvrocks';
  /** The data members' image (the sentinels keep the Redis image). */
  readonly image: string;
  /** The data members' config files (kvrocks.conf), instead of redis.conf and acl-rules. */
  readonly configFiles: Readonly<Record<string, string>>;
  /** The data container's memory limit. */
  readonly memoryLimit: string;
  /** Annotations of the data pod template (the capacity split). */
  readonly annotations: Readonly<Record<string, string>>;
}

export interface SentinelRedisProps extends WorkloadPlacementProps, ClientAccessProps {
  /** Namespace to run in (must exist). */
  readonly namespace: string;
  /** Topology name: prefix of every object, and REDIS_CLUSTER_NAME. @default derived from the construct id */
  readonly name?: string;
  /** @default Availability.HIGH_AVAILABILITY */
  readonly availability?: Availability;
  /** Where data lives. Persistent storage must be encrypted unless explicitly opted out. */
  readonly storage: DataStorage;
  /** Data members: one primary, the rest replicas. @default 2 (HA), 1 (development) */
  readonly dataMembers?: number;
  /** Sentinels; odd, at least 3. @default 3 */
  readonly sentinels?: number;
  /** Sentinels that must agree a primary is down. @default a majority of the sentinels */
  readonly quorum?: number;
  /** Sentinel master group name. @default 'mymaster' */
  readonly masterName?: string;
  /** Container image with redis-server, redis-sentinel, redis-cli and a POSIX shell. @default 'redis:7.2.7' */
  readonly image?: string;
  /** Data container memory limit (and request). maxmemory is derived from it. @default '1Gi' */
  readonly memoryLimit?: string;
  /** Data container CPU request. @default '250m' */
  readonly cpuRequest?: string;
  /** Data container CPU limit. @default none (no CPU throttling) */
  readonly cpuLimit?: string;
  /** Sentinel container memory limit (and request). @default '64Mi' */
  readonly sentinelMemoryLimit?: string;
  /** Sentinel container CPU request. @default '50m' */
  readonly sentinelCpuRequest?: string;
  /**
   * Size of each sentinel's state claim (its last view of the master group), on the data's
   * StorageClass, when the data is persistent. With ephemeral data the state is on an emptyDir.
   * @default '1Gi' (the smallest volume many CSI drivers provision)
   */
  readonly sentinelStateSize?: string;
  /** Share of memoryLimit given to maxmemory. @default 0.8 */
  readonly maxmemoryRatio?: number;
  /** @default EvictionPolicy.NOEVICTION */
  readonly evictionPolicy?: EvictionPolicy;
  /** Close idle client connections after this many seconds; 0 never. @default 0 */
  readonly timeoutSeconds?: number;
  /** @default Persistence.aofEverySecond() */
  readonly persistence?: Persistence;
  /** Sentinel down-after-milliseconds. @default 2000 (measured failover 3.3 s) */
  readonly downAfterMilliseconds?: number;
  /** Sentinel failover-timeout. @default 10000 */
  readonly failoverTimeoutMilliseconds?: number;
  /** Replicas resynchronising from a new primary at once. @default 1 */
  readonly parallelSyncs?: number;
  /**
   * min-replicas-to-write: the primary refuses writes unless this many replicas are connected
   * and within minReplicasMaxLagSeconds. Bounds the writes a partitioned primary can lose, but
   * with one replica, losing that replica stops all writes. @default 0 (off)
   */
  readonly minReplicasToWrite?: number;
  /** min-replicas-max-lag. @default 10 */
  readonly minReplicasMaxLagSeconds?: number;
  /** Password source. @default RedisAuth.generated() */
  readonly auth?: RedisAuth;
  /** Extra ACL users, each with its own password in the auth Secret (key `acl-<name>`). @default none */
  readonly aclUsers?: AclUser[];
  /**
   * A kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) that turns on TLS inside the topology:
   * clients, replication and sentinels all use TLS on the usual ports. @default TLS off inside the topology
   */
  readonly tlsSecretName?: string;
  /**
   * With tlsSecretName, when Terraform knows it: the CA certificate (PEM) that signs the members'
   * and sentinels' certificates, published as `ca.crt` in the Elastisys ConfigMap.
   * @default not published (the ConfigMap names the Secret instead: REDIS_TLS_CA_SECRET)
   */
  readonly tlsCaCertificatePem?: string;
  /** redis_exporter sidecar on port 9121, scraped from the monitoring namespace. @default off */
  readonly metrics?: SentinelRedisMetricsOptions;
  /** The Elastisys ConfigMap; false leaves it out. @default published in the namespace */
  readonly elastisysConfigMap?: ElastisysConfigMapOptions | false;
  /** The 3scale Secret. @default not published */
  readonly threeScaleSecret?: ThreeScaleSecretOptions;
  /**
   * A Secret with the password (key `password`) in application namespaces (default: where the
   * Elastisys ConfigMap goes), which are then admitted. Only with RedisAuth.generated().
   * @default not published
   */
  readonly passwordSecret?: PasswordSecretOptions;
  /** Terraform outputs. @default true */
  readonly outputs?: boolean;
  /** Prefix of the Terraform output names. @default 'redis_<namespace>_<name>' with '-' as '_' */
  readonly outputPrefix?: string;
  /** How long a member may search for the primary at boot before exiting. @default 600 */
  readonly bootTimeoutSeconds?: number;
  /**
   * Scheduled backups to object storage (Backups.toObjectStorage), or none on purpose
   * (Backups.disabled()).
   * @default none, with a synth warning that asks for one of the two
   */
  readonly backup?: Backups;
  /**
   * Initial data from a backup: at the topology's first boot, data member 0 downloads it, checks it
   * and loads it before it serves; the replicas then sync from it. Ignored once the topology has data.
   * @default none: the topology starts empty
   */
  readonly restoreFrom?: RestoreFrom;
  /**
   * @internal The data members' server when it is not Redis (FlashTierRedis: Kvrocks), with what
   * the construct that sets it has validated and rendered.
   */
  readonly _engine?: DataEngine;
  /**
   * Upper bound of a primary's planned handover: before a primary pod stops (rolling update, node
   * drain, eviction, scale-in), its preStop hook pauses writes, waits for the replicas to hold every
   * write and has the sentinels promote one (about a second with the defaults). The data pods'
   * termination grace period is this plus 10 s. @default 20
   */
  readonly handoverSeconds?: number;
}

export interface SentinelRedisMetricsOptions extends MetricsAccessOptions {
  /** @default 'oliver006/redis_exporter:v1.67.0' */
  readonly image?: string;
}

/** Attributes of a SentinelRedis deployed elsewhere (another stack, another repo). */
export interface SentinelRedisAttributes {
  readonly name: string;
  readonly namespace: string;
  /** @default 2 */
  readonly dataMembers?: number;
  /** @default 3 (0 for a development instance) */
  readonly sentinels?: number;
  /** @default 'mymaster' */
  readonly masterName?: string;
  /** @default 'cluster.local' */
  readonly clusterDomain?: string;
  /** @default false */
  readonly tlsEnabled?: boolean;
  /** The Secret with the members' TLS certificate and `ca.crt`; required when tlsEnabled. @default undefined */
  readonly tlsSecretName?: string;
  /** @default '<name>-auth' */
  readonly authSecretName?: string;
  /** @default 'password' */
  readonly passwordKey?: string;
}

/** Object names derived from the topology name; shared by the construct and fromAttributes. */
function topologyNames(name: string) {
  return {
    dataStatefulSet: name,
    dataHeadlessService: childName(name, 'headless'),
    sentinelStatefulSet: childName(name, 'sentinel'),
    sentinelHeadlessService: childName(name, 'sentinel-headless'),
    sentinelService: childName(name, 'sentinel'),
    authSecret: childName(name, 'auth'),
  };
}

function endpointOf(m: Pick<SentinelRedisModel, 'name' | 'namespace' | 'clusterDomain' | 'dataMembers' | 'sentinels' | 'masterName' | 'tls'>, auth: RedisAuthSecretRef, tlsSecretName: string | undefined): ISentinelRedis {
  const names = topologyNames(m.name);
  const model = { ...m, ...names };
  return {
    name: m.name,
    namespace: m.namespace,
    dataMemberHosts: Array.from({ length: m.dataMembers }, (_, i) => dataMemberHost(model, i)),
    redisPort: REDIS_PORT,
    auth,
    tlsEnabled: m.tls,
    tlsSecretName: m.tls ? tlsSecretName : undefined,
    accessTarget: {
      namespace: m.namespace,
      name: m.name,
      podSelector: topologySelector(m.name, SENTINEL_REDIS_PART_OF),
      clientPorts: m.sentinels > 0 ? [REDIS_PORT, SENTINEL_PORT] : [REDIS_PORT],
    },
    masterName: m.masterName,
    sentinelServiceHost: `${names.sentinelService}.${m.namespace}`,
    sentinelPort: SENTINEL_PORT,
    sentinelHosts: Array.from({ length: m.sentinels }, (_, i) => sentinelHost(model, i)),
    highlyAvailable: m.sentinels > 0,
  };
}

/**
 * A Redis primary with replicas and a quorum of sentinels, spread over zones and nodes, failing
 * over in about 3 s with the defaults. Members announce stable DNS names, never pod IPs, and
 * decide their role by asking the sentinels before they start, so a restarted primary never
 * takes writes that a failover then wipes.
 */
export class SentinelRedis extends Construct implements ISentinelRedis {
  /** A SentinelRedis deployed by another stack or repository, from its known attributes. */
  public static fromAttributes(scope: Construct, id: string, attrs: SentinelRedisAttributes): ISentinelRedis {
    const c = new Construct(scope, id);
    const v = new PropsValidator(c);
    v.check('name', attrs.name, (n) => isDnsLabel(n, 40), 'a DNS-1123 label of at most 40 characters');
    v.check('namespace', attrs.namespace, (n) => isDnsLabel(n), 'a namespace name');
    v.integer('dataMembers', attrs.dataMembers, 1, 9);
    v.integer('sentinels', attrs.sentinels, 0, 9);
    v.check('tlsSecretName', attrs.tlsSecretName, isDnsSubdomain, 'a Secret name');
    if (attrs.tlsEnabled === true && attrs.tlsSecretName === undefined) v.fail('tlsSecretName', undefined, 'a Secret name when tlsEnabled is true');
    v.throwIfInvalid();
    return endpointOf({
      name: attrs.name,
      namespace: attrs.namespace,
      clusterDomain: attrs.clusterDomain ?? 'cluster.local',
      dataMembers: attrs.dataMembers ?? 2,
      sentinels: attrs.sentinels ?? 3,
      masterName: attrs.masterName ?? 'mymaster',
      tls: attrs.tlsEnabled ?? false,
    }, { secretName: attrs.authSecretName ?? topologyNames(attrs.name).authSecret, passwordKey: attrs.passwordKey ?? 'password' }, attrs.tlsSecretName);
  }

  public readonly name: string;
  public readonly namespace: string;
  public readonly dataMemberHosts: string[];
  public readonly redisPort = REDIS_PORT;
  public readonly auth: RedisAuthSecretRef;
  public readonly tlsEnabled: boolean;
  public readonly tlsSecretName?: string;
  public readonly accessTarget: AccessTarget;
  public readonly masterName: string;
  public readonly sentinelServiceHost: string;
  public readonly sentinelPort = SENTINEL_PORT;
  public readonly sentinelHosts: string[];
  public readonly highlyAvailable: boolean;
  /**
   * The password, sensitive: a Terraform reference to the generated random_password (undefined
   * with RedisAuth.fromExistingSecret). Pass it only where a Secret or a sensitive output takes it.
   */
  public readonly password?: string;
  /** The validated model the config files are rendered from. */
  public readonly model: SentinelRedisModel;
  /** The rendered files of the config ConfigMap. */
  public readonly configFiles: Readonly<Record<string, string>>;
  /** The rendered files of the scripts ConfigMap. */
  public readonly scriptFiles: Readonly<Record<string, string>>;
  /** The data members' StatefulSet. */
  public readonly dataStatefulSet: StatefulSetV1;
  /** The sentinels' StatefulSet (undefined in development mode). */
  public readonly sentinelStatefulSet?: StatefulSetV1;
  /** The network policies. */
  public readonly accessPolicy: AccessPolicy;
  /** The published connection details. */
  public readonly connection: ConnectionContract;
  /** The scheduled backups (undefined without Backups.toObjectStorage). */
  public readonly backupSchedule?: BackupSchedule;
  /** Where this topology's backups are, for a RestoreFrom (undefined without backups). */
  public readonly backupSource?: BackupSource;

  constructor(scope: Construct, id: string, props: SentinelRedisProps) {
    super(scope, id);
    // Everything is checked before anything is derived: a JavaScript caller with a missing or
    // mistyped prop gets the validation message, never a TypeError from inside the library.
    this.validate(props);
    const availability = props.availability ?? Availability.HIGH_AVAILABILITY;
    const ha = availability.highlyAvailable;
    const name = resourceName(this, props.name, 40);
    const dataMembers = props.dataMembers ?? (ha ? 2 : 1);
    const sentinels = ha ? props.sentinels ?? 3 : 0;
    const quorum = ha ? props.quorum ?? Math.floor(sentinels / 2) + 1 : 0;
    const engine = props._engine;
    const memoryLimit = engine?.memoryLimit ?? props.memoryLimit ?? '1Gi';
    const ratio = props.maxmemoryRatio ?? DEFAULT_MAXMEMORY_RATIO;
    const persistence = props.persistence ?? Persistence.aofEverySecond();
    const auth = props.auth ?? RedisAuth.generated();
    const aclUsers = props.aclUsers ?? [];
    const minReplicasToWrite = props.minReplicasToWrite ?? 0;
    this.name = name;

    const names = topologyNames(name);
    this.model = {
      name,
      namespace: props.namespace,
      clusterDomain: props.clusterDomain ?? 'cluster.local',
      masterName: props.masterName ?? 'mymaster',
      dataMembers,
      sentinels,
      quorum,
      redisPort: REDIS_PORT,
      sentinelPort: SENTINEL_PORT,
      dataStatefulSet: names.dataStatefulSet,
      dataHeadlessService: names.dataHeadlessService,
      sentinelStatefulSet: names.sentinelStatefulSet,
      sentinelHeadlessService: names.sentinelHeadlessService,
      maxmemoryBytes: maxmemoryBytes(memoryLimit, ratio),
      evictionPolicy: (props.evictionPolicy ?? EvictionPolicy.NOEVICTION).value,
      timeoutSeconds: props.timeoutSeconds ?? 0,
      persistence: persistence.mode,
      rdbSavePoints: persistence.savePoints,
      downAfterMilliseconds: props.downAfterMilliseconds ?? 2000,
      failoverTimeoutMilliseconds: props.failoverTimeoutMilliseconds ?? 10000,
      parallelSyncs: props.parallelSyncs ?? 1,
      minReplicasToWrite,
      minReplicasMaxLagSeconds: props.minReplicasMaxLagSeconds ?? 10,
      tls: props.tlsSecretName !== undefined,
      aclUsers: aclUsers.map((u) => ({ name: u.name, rules: (u.permissions ?? AclPermissions.application()).rules })),
      bootTimeoutSeconds: props.bootTimeoutSeconds ?? 600,
      handoverSeconds: props.handoverSeconds ?? 20,
      restore: props.restoreFrom !== undefined,
      ...(engine ? { engine: engine.kind } : {}),
    };
    const m = this.model;
    const runAs = { uid: REDIS_UID };
    const restore = props.restoreFrom
      ? restorePodPieces(this, props.restoreFrom, { namespace: m.namespace, name, persistence: m.persistence, bootTimeoutSeconds: m.bootTimeoutSeconds, runAs, labels: this.labels('restore', 'redis'), engine: engine?.kind })
      : undefined;

    // --- auth Secret -----------------------------------------------------------------------
    const secret = authSecret(this, { auth, aclUserNames: aclUsers.map((u) => u.name), secretName: names.authSecret, namespace: m.namespace, labels: this.labels('auth', 'redis') });
    const authSecretName = secret.ref.secretName;
    const password = secret.password;
    this.auth = secret.ref;
    this.password = password;

    // --- rendered configuration ------------------------------------------------------------
    const configFiles: Record<string, string> = engine ? { ...engine.configFiles } : { 'redis.conf': renderRedisConf(m), 'acl-rules': renderAclRules(m) };
    if (ha) {
      configFiles['sentinel.conf'] = renderSentinelConf(m);
      configFiles['sentinel-master.conf'] = renderSentinelMasterConf(m);
    }
    this.configFiles = configFiles;
    this.scriptFiles = { ...renderScripts(m), ...restore?.scriptFiles };
    const configMap = new ConfigMapV1(this, 'Config', kubernetesObject(this, 'ConfigMap', {
      metadata: { name: childName(name, 'config'), namespace: m.namespace, labels: this.labels('config', 'redis') },
      data: { ...configFiles },
    }));
    const scriptsMap = new ConfigMapV1(this, 'Scripts', kubernetesObject(this, 'ConfigMap', {
      metadata: { name: childName(name, 'scripts'), namespace: m.namespace, labels: this.labels('config', 'redis') },
      data: { ...this.scriptFiles },
    }));
    // Each pod template carries the checksum of what its pods read: a data-member setting does not
    // restart the sentinels, a sentinel setting does not restart the data members.
    const podChecksum = (kind: 'data' | 'sentinel') => checksumAnnotations(...podChecksumDocuments(kind, m, configFiles, this.scriptFiles));

    // --- shared pod pieces -----------------------------------------------------------------
    const nodeSpread = props.nodeSpread ?? (ha ? Spread.REQUIRED : Spread.PREFERRED);
    const zoneSpread = props.zoneSpread ?? Spread.PREFERRED;
    const commonVolumes = redisPodVolumes({ configMapName: configMap.metadata.name, scriptsMapName: scriptsMap.metadata.name, authSecretName, passwordKey: auth.passwordKey, aclUserNames: aclUsers.map((u) => u.name), tlsSecretName: m.tls ? props.tlsSecretName : undefined });
    const commonMounts = redisPodMounts(m.tls);
    const env = redisPodEnv();
    // The sentinels' image; the data members' is the engine's when it is not Redis.
    const image = props.image ?? 'redis:7.2.7';
    const annotations = (kind: 'data' | 'sentinel') => ({ ...podChecksum(kind), 'redis-topologies.io/availability': availability.value });

    // --- data members ----------------------------------------------------------------------
    const dataId = this.identity('data', 'redis');
    const dataSelector = selectorLabels(dataId);
    const dataHeadless = new ServiceV1(this, 'DataHeadless', kubernetesObject(this, 'Service', {
      metadata: { name: names.dataHeadlessService, namespace: m.namespace, labels: standardLabels(dataId) },
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: true,
        selector: dataSelector,
        port: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis' }],
      },
    }));

    const storage = props.storage;
    // Terraform owns each member's claim, so a larger size grows it in place (DataStorage._claims).
    const dataClaims = storage._claims(this, 'DataClaim', {
      templateName: 'data', statefulSetName: names.dataStatefulSet, namespace: m.namespace, replicas: dataMembers, replicasProp: 'dataMembers', labels: standardLabels(dataId),
    });
    const dataVolumeClaims = dataClaims.template;
    const dataVolumes = storage.kind === 'ephemeral'
      ? [{ name: 'data', emptyDir: { sizeLimit: storage.size } }]
      : [];

    const dataContainers: any[] = [redisDataContainer({
      image: engine?.image ?? image, port: REDIS_PORT, memoryLimit, cpuRequest: props.cpuRequest ?? '250m', cpuLimit: props.cpuLimit, tls: m.tls, runAs,
      // A primary hands its role over before it stops (see renderRedisPreStop).
      entrypoint: 'redis-entrypoint.sh', probe: 'redis-probe.sh', preStop: 'redis-prestop.sh', bootTimeoutSeconds: m.bootTimeoutSeconds,
    })];
    if (props.metrics) {
      dataContainers.push(metricsSidecar({ image: props.metrics.image, redisPort: REDIS_PORT, tls: m.tls, authSecretName, passwordKey: auth.passwordKey }));
    }

    const backupAnnotation = { 'redis-topologies.io/backups': props.backup === undefined ? 'none' : props.backup.enabled ? `${props.backup.options.schedule ?? '0 * * * *'} to ${props.backup.options.storage}` : 'disabled' };
    this.dataStatefulSet = new StatefulSetV1(this, 'Data', kubernetesObject(this, 'StatefulSet', {
      metadata: { name: names.dataStatefulSet, namespace: m.namespace, labels: standardLabels(dataId), annotations: { 'redis-topologies.io/availability': availability.value, ...backupAnnotation } },
      spec: {
        serviceName: dataHeadless.metadata.name,
        replicas: String(dataMembers),
        // Parallel: a member waiting for the primary must never block the primary's own start.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: dataSelector },
        updateStrategy: [{ type: 'RollingUpdate' }],
        template: {
          metadata: { labels: { ...standardLabels(dataId), ...restore?.podLabels }, annotations: { ...annotations('data'), ...engine?.annotations } },
          spec: {
            serviceAccountName: restore?.serviceAccountName,
            automountServiceAccountToken: AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
            enableServiceLinks: false,
            // The preStop handover, then a clean shutdown (AOF fsync).
            terminationGracePeriodSeconds: m.handoverSeconds + 10,
            securityContext: restrictedPodSecurityContext(runAs),
            ...placement(dataSelector, { zoneSpread, nodeSpread, nodeSelector: props.nodeSelector, tolerations: props.tolerations }),
            initContainer: restore ? [restore.initContainer('all')] : undefined,
            container: dataContainers,
            volume: [...commonVolumes, ...dataVolumes, ...(restore?.volumes ?? [])],
          },
        },
        volumeClaimTemplate: dataVolumeClaims,
      },
      lifecycle: dataClaims.lifecycle,
      dependsOn: dataClaims.dependsOn,
    }));
    new PodDisruptionBudgetV1(this, 'DataPdb', kubernetesObject(this, 'PodDisruptionBudget', {
      metadata: { name: childName(name, 'data'), namespace: m.namespace, labels: standardLabels(dataId) },
      spec: { maxUnavailable: '1', selector: { matchLabels: dataSelector } },
    }));

    // --- sentinels -------------------------------------------------------------------------
    if (ha) {
      const sentinelId = this.identity('sentinel', 'redis-sentinel');
      const sentinelSelector = selectorLabels(sentinelId);
      const sentinelPorts = [{ name: 'sentinel', port: SENTINEL_PORT, targetPort: 'sentinel' }];
      const sentinelHeadless = new ServiceV1(this, 'SentinelHeadless', kubernetesObject(this, 'Service', {
        metadata: { name: names.sentinelHeadlessService, namespace: m.namespace, labels: standardLabels(sentinelId) },
        spec: { clusterIp: 'None', publishNotReadyAddresses: true, selector: sentinelSelector, port: sentinelPorts },
      }));
      new ServiceV1(this, 'SentinelService', kubernetesObject(this, 'Service', {
        metadata: { name: names.sentinelService, namespace: m.namespace, labels: standardLabels(sentinelId) },
        spec: { type: 'ClusterIP', selector: sentinelSelector, port: sentinelPorts },
      }));
      const sprobe = (kind: string) => ['sh', `${PATHS.scripts}/sentinel-probe.sh`, kind];
      const sentinelClaims = storage._claims(this, 'SentinelStateClaim', {
        templateName: 'state', statefulSetName: names.sentinelStatefulSet, namespace: m.namespace, replicas: sentinels, replicasProp: 'sentinels', labels: standardLabels(sentinelId), size: props.sentinelStateSize ?? '1Gi',
      });
      const sentinelStateClaims = sentinelClaims.template;
      const sentinelMemory = props.sentinelMemoryLimit ?? '64Mi';
      this.sentinelStatefulSet = new StatefulSetV1(this, 'Sentinel', kubernetesObject(this, 'StatefulSet', {
        metadata: { name: names.sentinelStatefulSet, namespace: m.namespace, labels: standardLabels(sentinelId) },
        spec: {
          serviceName: sentinelHeadless.metadata.name,
          replicas: String(sentinels),
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: sentinelSelector },
          updateStrategy: [{ type: 'RollingUpdate' }],
          template: {
            metadata: { labels: standardLabels(sentinelId), annotations: annotations('sentinel') },
            spec: {
              automountServiceAccountToken: AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
              enableServiceLinks: false,
              // The preStop hook (a failover this sentinel runs ends first) and a margin.
              terminationGracePeriodSeconds: sentinelPreStopSeconds(m) + 5,
              securityContext: restrictedPodSecurityContext(runAs),
              ...placement(sentinelSelector, { zoneSpread, nodeSpread, nodeSelector: props.nodeSelector, tolerations: props.tolerations }),
              container: [{
                name: 'sentinel',
                image,
                command: ['sh', `${PATHS.scripts}/sentinel-entrypoint.sh`],
                env,
                port: [{ name: 'sentinel', containerPort: SENTINEL_PORT }],
                resources: { requests: { memory: sentinelMemory, cpu: props.sentinelCpuRequest ?? '50m' }, limits: { memory: sentinelMemory } },
                volumeMount: [...commonMounts, { name: 'state', mountPath: PATHS.state }],
                securityContext: restrictedContainerSecurityContext(runAs),
                lifecycle: preStopHook(['sh', `${PATHS.scripts}/sentinel-prestop.sh`]),
                startupProbe: execProbe(sprobe('startup'), { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: Math.ceil(m.bootTimeoutSeconds / 5) + 12 }),
                livenessProbe: execProbe(sprobe('liveness'), { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 }),
                readinessProbe: execProbe(sprobe('readiness'), { periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 2 }),
              }],
              // With persistent data, the last view of the master group is on a volume claim of its
              // own, so it survives every pod being deleted and the newest data wins (no secret in it).
              // With ephemeral data, a disk-backed emptyDir: it survives a node reboot.
              volume: [...commonVolumes, ...(sentinelStateClaims ? [] : [{ name: 'state', emptyDir: { sizeLimit: '1Mi' } }])],
            },
          },
          volumeClaimTemplate: sentinelStateClaims,
        },
        lifecycle: sentinelClaims.lifecycle,
        dependsOn: sentinelClaims.dependsOn,
      }));
      new PodDisruptionBudgetV1(this, 'SentinelPdb', kubernetesObject(this, 'PodDisruptionBudget', {
        metadata: { name: childName(name, 'sentinel'), namespace: m.namespace, labels: standardLabels(sentinelId) },
        // A failover needs `quorum` sentinels to agree and a majority to elect a leader.
        spec: { minAvailable: String(Math.max(quorum, Math.floor(sentinels / 2) + 1)), selector: { matchLabels: sentinelSelector } },
      }));
    } else {
      Annotations.of(this).addWarning(`${this.node.path}: development availability: one Redis, no sentinels, no failover. Not for production.`);
    }

    // --- interface attributes, access, connection contract ---------------------------------
    const endpoint = endpointOf(m, this.auth, props.tlsSecretName);
    this.tlsSecretName = endpoint.tlsSecretName;
    this.namespace = m.namespace;
    this.dataMemberHosts = endpoint.dataMemberHosts;
    this.tlsEnabled = m.tls;
    this.accessTarget = endpoint.accessTarget;
    this.masterName = m.masterName;
    this.sentinelServiceHost = endpoint.sentinelServiceHost;
    this.sentinelHosts = endpoint.sentinelHosts;
    this.highlyAvailable = ha;

    // Built before the access policy, so bad namespaces in the published details are reported
    // by the contract that publishes into them.
    this.connection = new ConnectionContract(this, 'Connection', {
      details: {
        clusterName: name,
        namespace: m.namespace,
        masterName: m.masterName,
        sentinelServiceHost: this.sentinelServiceHost,
        sentinelPort: SENTINEL_PORT,
        sentinelPodHosts: this.sentinelHosts,
        password,
        sentinels: ha,
        redisHost: this.dataMemberHosts[0],
        redisPort: REDIS_PORT,
        // The sentinel entrypoint writes `requirepass` with the Redis password.
        sentinelAuth: true,
        tls: m.tls,
        tlsCaSecretName: props.tlsSecretName,
        tlsCaCertificatePem: props.tlsCaCertificatePem,
      },
      elastisysConfigMap: props.elastisysConfigMap,
      threeScaleSecret: props.threeScaleSecret,
      passwordSecret: props.passwordSecret,
      outputs: props.outputs,
      outputPrefix: props.outputPrefix,
    });

    // Publishing connection details into an application namespace also admits that namespace:
    // one step, so an application given the details can use them.
    const published = this.connection.namespaces.filter((ns) => ns !== m.namespace);

    // --- backups: a CronJob that reaches the members like any client -------------------------
    if (props.backup?.enabled) {
      this.backupSchedule = new BackupSchedule(this, 'Backup', {
        backups: props.backup,
        target: {
          namespace: m.namespace, name, partOf: SENTINEL_REDIS_PART_OF, kind: 'sentinel', redisPort: REDIS_PORT,
          tlsSecretName: m.tls ? props.tlsSecretName : undefined, authSecretName, passwordKey: auth.passwordKey, image: engine?.image ?? image, memoryLimit,
          podSelector: this.accessTarget.podSelector,
          shards: [{ path: 'main', hosts: this.dataMemberHosts }],
          kvrocksMembers: engine?.kind === 'kvrocks'
            ? Array.from({ length: dataMembers }, (_, i) => ({ podName: `${names.dataStatefulSet}-${i}`, claimName: statefulSetClaimName('data', names.dataStatefulSet, i) }))
            : undefined,
          dns: props.dns, nodeSelector: props.nodeSelector, tolerations: props.tolerations,
        },
      });
      this.backupSource = this.backupSchedule.source;
    } else if (props.backup === undefined) {
      Annotations.of(this).addWarning(`${this.node.path}: no backups. Set backup: Backups.toObjectStorage({ ... }), or Backups.disabled() to leave them off on purpose.`);
    }
    this.accessPolicy = new AccessPolicy(this, 'Access', {
      ...this.accessTarget,
      peerPorts: ha ? [REDIS_PORT, SENTINEL_PORT] : [REDIS_PORT],
      clients: [
        ...(props.clients ?? []),
        ...published.map((ns) => AccessClient.namespace(ns)),
        ...(this.backupSchedule ? [AccessClient.pods(this.backupSchedule.podSelector)] : []),
      ],
      egress: restore?.egress,
      accessLabel: props.accessLabel,
      dns: props.dns,
      metricsPorts: props.metrics ? [METRICS_PORT] : undefined,
      metrics: props.metrics,
    });
  }

  private identity(component: string, app: string) {
    return { name: app, instance: this.name, component, partOf: SENTINEL_REDIS_PART_OF };
  }

  private labels(component: string, app: string): Record<string, string> {
    return standardLabels(this.identity(component, app));
  }

  private validate(props: SentinelRedisProps): void {
    const v = new PropsValidator(this);
    if (!v.required('props', props, 'object', 'a SentinelRedisProps object')) v.throwIfInvalid();
    v.option('availability', props.availability, Availability, AVAILABILITY_FACTORIES);
    const ha = !(props.availability instanceof Availability) || props.availability.highlyAvailable;
    validateNamespace(v, 'namespace', props.namespace, true);
    const NAME = 'a DNS-1123 label of at most 40 characters (room for suffixes like -sentinel-headless)';
    if (v.type('name', props.name, 'string', NAME) && v.known('name', props.name, 'object names and the DNS names in the rendered config files are derived from it')) {
      v.check('name', props.name, (n) => isDnsLabel(n, 40), NAME);
    }
    DataStorage._check(v, 'storage', props.storage);

    // Counts: members, sentinels, quorum. Known when the plan is written: each pod's DNS name, volume
    // claim and members.sh are derived from them.
    v.known('dataMembers', props.dataMembers, 'each member\'s DNS name and volume claim are derived from it');
    v.known('sentinels', props.sentinels, 'each sentinel\'s DNS name and volume claim are derived from it');
    const dataMembers = typeof props.dataMembers === 'number' ? props.dataMembers : ha ? 2 : 1;
    const sentinels = typeof props.sentinels === 'number' ? props.sentinels : 3;
    if (ha) {
      v.integer('dataMembers', props.dataMembers, 2, 9);
      v.check('sentinels', props.sentinels, (s) => Number.isInteger(s) && s >= 3 && s % 2 === 1 && s <= 9, 'an odd integer from 3 to 9');
      const lo = Math.floor(sentinels / 2) + 1;
      v.check('quorum', props.quorum, (q) => Number.isInteger(q) && q >= lo && q <= sentinels,
        `an integer from ${lo} to ${sentinels}: more than half of the sentinels, at most all of them`);
      v.integer('minReplicasToWrite', props.minReplicasToWrite, 0, Math.max(0, dataMembers - 1));
    } else {
      v.check('dataMembers', props.dataMembers, (n) => n === 1,
        '1 in development mode: replicas without sentinels never fail over, which is not HA (use Availability.HIGH_AVAILABILITY)');
      v.check('sentinels', props.sentinels, () => false, 'unset in development mode (no sentinels run)');
      v.check('quorum', props.quorum, () => false, 'unset in development mode (no sentinels run)');
      v.check('minReplicasToWrite', props.minReplicasToWrite, (n) => n === 0, '0 in development mode (there are no replicas)');
      v.check('elastisysConfigMap', props.elastisysConfigMap, (o) => o === false,
        'unset or false in development mode: its REDIS_SENTINEL_HOST would name a sentinel that does not run');
    }
    if (v.type('masterName', props.masterName, 'string', 'letters, digits, ".", "_" and "-"')) {
      v.check('masterName', props.masterName, (n) => /^[A-Za-z0-9._-]{1,64}$/.test(n), 'letters, digits, ".", "_" and "-", at most 64 characters');
    }

    // Image and resources.
    v.string('image', props.image, isImage, IMAGE_ALLOWED);
    validateResources(v, { cpuRequest: props.cpuRequest, cpuLimit: props.cpuLimit, memoryLimit: props.memoryLimit }, {});
    v.known('memoryLimit', props.memoryLimit, 'maxmemory in redis.conf is derived from it when the plan is written');
    if (typeof props.memoryLimit === 'string' && isMemory(props.memoryLimit) && maxmemoryBytes(props.memoryLimit, 1) < 32 * 2 ** 20) {
      v.fail('memoryLimit', props.memoryLimit, 'at least 32Mi');
    }
    validateResources(v, { cpuRequest: props.sentinelCpuRequest, memoryLimit: props.sentinelMemoryLimit }, { cpuRequest: 'sentinelCpuRequest', memoryLimit: 'sentinelMemoryLimit' });
    validateRatio(v, 'maxmemoryRatio', props.maxmemoryRatio, 0.1, 0.95, 'Redis needs headroom for fork and buffers');
    v.string('sentinelStateSize', props.sentinelStateSize, isMemory, 'a storage quantity above zero, such as 1Gi');
    v.known('maxmemoryRatio', props.maxmemoryRatio, 'maxmemory in redis.conf is derived from it when the plan is written');

    // Durations.
    v.integer('timeoutSeconds', props.timeoutSeconds, 0, 7 * 24 * 3600);
    v.integer('downAfterMilliseconds', props.downAfterMilliseconds, 500, 600000);
    v.integer('failoverTimeoutMilliseconds', props.failoverTimeoutMilliseconds, 1000, 3600000);
    const downAfter = props.downAfterMilliseconds ?? 2000;
    // failover-timeout bounds each step of a failover and spaces retries (2x); shorter than the
    // time it takes to even notice a failure, a failover would be abandoned before the replicas
    // could follow the new primary.
    v.check('failoverTimeoutMilliseconds', props.failoverTimeoutMilliseconds, (t) => !Number.isInteger(downAfter) || t >= downAfter,
      `at least downAfterMilliseconds (${downAfter})`);
    v.integer('parallelSyncs', props.parallelSyncs, 1, 8);
    v.integer('minReplicasMaxLagSeconds', props.minReplicasMaxLagSeconds, 1, 3600);
    v.integer('bootTimeoutSeconds', props.bootTimeoutSeconds, 30, 3600);
    v.integer('handoverSeconds', props.handoverSeconds, 10, 300);

    validatePlacement(v, props);
    v.string('tlsSecretName', props.tlsSecretName, isDnsSubdomain, 'a Secret name');
    v.option('evictionPolicy', props.evictionPolicy, EvictionPolicy, EVICTION_POLICY_FACTORIES);
    if (v.option('persistence', props.persistence, Persistence, PERSISTENCE_FACTORIES) && props.persistence?.mode === 'rdb') {
      if (props.persistence.savePoints.length === 0) {
        v.fail('persistence.savePoints', [], 'at least one save point (for no persistence at all, say so: Persistence.none())');
      }
      props.persistence.savePoints.forEach((p, i) => {
        v.integer(`persistence.savePoints[${i}].seconds`, p?.seconds, 1);
        v.integer(`persistence.savePoints[${i}].changes`, p?.changes, 1);
      });
    }

    // Auth and ACL users.
    validateAuth(v, props.auth, props.aclUsers);
    if (props.auth instanceof RedisAuth && props.auth.source === 'existing' && props.threeScaleSecret) {
      v.fail('threeScaleSecret', 'with RedisAuth.fromExistingSecret', 'only with RedisAuth.generated(): the 3scale URL embeds the password, which Terraform does not know for an existing Secret');
    }

    if (v.type('metrics', props.metrics, 'object', 'metrics options { image?, namespace? }') && props.metrics) {
      v.string('metrics.image', props.metrics.image, isImage, IMAGE_ALLOWED);
    }
    v.type('outputs', props.outputs, 'boolean', 'true or false');
    validatePasswordSecret(v, 'passwordSecret', props.passwordSecret, !(props.auth instanceof RedisAuth) || props.auth.source === 'generated',
      'only with RedisAuth.generated(): with RedisAuth.fromExistingSecret the password is in your Secret, which Terraform never reads; copy that Secret into the application namespaces yourself');
    if (props.tlsCaCertificatePem !== undefined && props.tlsSecretName === undefined) v.fail('tlsCaCertificatePem', props.tlsCaCertificatePem, 'only with tlsSecretName (TLS inside the topology)');
    if (v.option('backup', props.backup, Backups, BACKUPS_FACTORIES) && props.backup) props.backup._validate(v, 'backup');
    if (v.option('restoreFrom', props.restoreFrom, RestoreFrom, RESTORE_FROM_FACTORIES) && props.restoreFrom) props.restoreFrom._validate(v, 'restoreFrom', props._engine?.kind ?? 'redis');
    v.throwIfInvalid();
  }
}
