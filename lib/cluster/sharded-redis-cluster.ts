import { createHash } from 'crypto';
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { JobV1 } from '@cdktf/provider-kubernetes/lib/job-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { DataKubernetesResources } from '@cdktf/provider-kubernetes/lib/data-kubernetes-resources';
import { Fn, Op } from '../core/cdktf';
import { jobV1Binding } from '../core/bindings';
import { terraformLiterals } from '../core/escaping';
import { AccessClient, AccessPolicy, AccessTarget, ClientAccessProps, MetricsAccessOptions } from '../access/access-policy';
import { AclPermissions, AclUser } from '../auth/acl';
import { authSecret, validateAuth } from '../auth/auth-secret';
import { RedisAuth, RedisAuthSecretRef } from '../auth/redis-auth';
import { checksumAnnotations } from '../core/checksum';
import { selectorLabels, standardLabels, topologySelector } from '../core/labels';
import { childName, isDnsLabel, isDnsSubdomain, resourceName } from '../core/names';
import { fieldEnv, placement, Spread, validatePlacement, WorkloadPlacementProps } from '../core/pod-template';
import { AUTOMOUNT_SERVICE_ACCOUNT_TOKEN, REDIS_UID, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/pod-security';
import { DEFAULT_MAXMEMORY_RATIO, maxmemoryBytes } from '../core/quantity';
import { kubernetesObject } from '../core/registry';
import { IMAGE_ALLOWED, isImage, isMemory, validateNamespace, validateRatio, validateResources } from '../core/rules';
import { PropsValidator } from '../core/validation';
import { ClusterConfigMapOptions, ClusterConnectionContract, clusterContractNamespaces } from '../contract/cluster-contract';
import { PasswordSecretOptions, validatePasswordSecret } from '../contract/connection-contract';
import { IRedisCluster } from '../endpoint';
import { metricsSidecar, METRICS_PORT, redisDataContainer, redisPodMounts, redisPodVolumes } from '../redis/data-member';
import { PATHS } from '../redis/paths';
import { renderAclRules } from '../redis/redis-conf';
import { EVICTION_POLICY_FACTORIES, EvictionPolicy, Persistence, PERSISTENCE_FACTORIES } from '../sentinel/options';
import { DataStorage } from '../storage/data-storage';
import { renderClusterRedisConf } from './cluster-conf';
import { ClusterProxy } from './cluster-proxy';
import { TwemproxyProxy } from './twemproxy-proxy';
import { clusterMemberHost, ShardedRedisClusterModel, shardStatefulSetName, slotRanges } from './model';
import { CLUSTER_POLICY_FACTORIES, ClusterPolicy } from './options';
import { MEMBER_CONFIG_FILES, MEMBER_SCRIPTS, renderClusterScripts } from './scripts';
import { ClusterSizing } from './sizing';
import { Annotations } from '../core/cdktf';
import { BackupSchedule } from '../backup/backup-schedule';
import { Backups, BACKUPS_FACTORIES, BackupSource, RESTORE_FROM_FACTORIES, RestoreFrom } from '../backup/backups';
import { restorePodPieces } from '../backup/restore';

/**
 * The shard counts a cluster takes. Not 1 or 2: Redis Cluster promotes a replica only with the
 * votes of a majority of the primaries, which a failed primary of one or two cannot give (Azure's
 * single-shard form fails over through its own proxy layer, which Redis does not have).
 */
const SHARDS_HERE = 'an integer from 3 to 64: a replica is promoted only by a majority of the primaries, so with 1 or 2 shards a failed primary is never replaced (for one shard with failover use SentinelRedis)';

/** Part-of label value of every ShardedRedisCluster object. */
export const SHARDED_REDIS_CLUSTER_PART_OF = 'sharded-redis-cluster';
const REDIS_PORT = 6379;
const BUS_PORT = 16379;
/** The label that names a member's shard: the placement rules keep a shard's members apart. */
export const SHARD_LABEL = 'redis-topologies.io/shard';
/**
 * cluster-node-timeout when none is given, in ms. Measured on 3 primaries + 3 replicas (Redis 7.0):
 * 2000 ms had a killed primary's slots back in 4.2 s, 5000 ms in 8.7 s, Redis's default 15000 in
 * 23.2 s. 5000 leaves a primary 5 s of stall (a fork of a large dataset, a slow disk, a congested
 * zone link) before the cluster replaces it, and planned changes do not wait for it at all (the
 * preStop hook hands a primary over with CLUSTER FAILOVER).
 */
export const DEFAULT_CLUSTER_NODE_TIMEOUT_MS = 5000;

export interface ShardedRedisClusterProps extends WorkloadPlacementProps, ClientAccessProps {
  /** Namespace to run in (must exist). */
  readonly namespace: string;
  /** Topology name: prefix of every object. @default derived from the construct id */
  readonly name?: string;
  /**
   * Where data lives: persistent (the node id, peers and epochs in nodes.conf must survive a pod's
   * re-creation), encrypted unless explicitly opted out.
   */
  readonly storage: DataStorage;
  /**
   * Shards, memory and CPU from a preset (ClusterSizing.azure, .scaleway) or explicit values. Not
   * together with `shards`, `memoryLimit` or `cpuRequest`. The plan's pod templates carry the
   * preset and its arithmetic as annotations.
   * @default none: `shards`, `memoryLimit` and `cpuRequest` or their defaults
   */
  readonly sizing?: ClusterSizing;
  /** Primaries, each owning an even share of the 16,384 slots: 3 to 64 (2 to 64 behind twemproxy). @default 3 */
  readonly shards?: number;
  /** Replicas of each primary, 1 to 5; 0 with the twemproxy policy (it never fails over). @default 1 (0 with ClusterPolicy.twemproxy()) */
  readonly replicasPerShard?: number;
  /** @default ClusterPolicy.oss() */
  readonly policy?: ClusterPolicy;
  /** Container image with redis-server, redis-cli and a POSIX shell. @default 'redis:7.2.7' */
  readonly image?: string;
  /** Member container memory limit (and request). maxmemory is derived from it. @default '1Gi' */
  readonly memoryLimit?: string;
  /** Member container CPU request. @default '250m' */
  readonly cpuRequest?: string;
  /** Member container CPU limit. @default none (no CPU throttling) */
  readonly cpuLimit?: string;
  /** Share of memoryLimit given to maxmemory. @default 0.8 */
  readonly maxmemoryRatio?: number;
  /** @default EvictionPolicy.NOEVICTION */
  readonly evictionPolicy?: EvictionPolicy;
  /** Close idle client connections after this many seconds; 0 never. @default 0 */
  readonly timeoutSeconds?: number;
  /** @default Persistence.aofEverySecond() */
  readonly persistence?: Persistence;
  /** cluster-node-timeout, 1000 to 60000 ms. @default 5000 (see DEFAULT_CLUSTER_NODE_TIMEOUT_MS) */
  readonly clusterNodeTimeoutMilliseconds?: number;
  /** Password source. @default RedisAuth.generated() */
  readonly auth?: RedisAuth;
  /** Extra ACL users, each with its own password in the auth Secret (key `acl-<name>`). @default none */
  readonly aclUsers?: AclUser[];
  /**
   * A kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) that turns on TLS for clients, replication
   * and the cluster bus. The bus is mutual TLS: each member presents its certificate to the peers it
   * connects to, so the certificate must allow client authentication as well as server authentication
   * (extended key usage serverAuth and clientAuth), for every member's DNS name (a wildcard for
   * `*.<name>-headless.<namespace>.svc.<domain>` does). Not with the enterprise policy (its proxy cannot
   * reach TLS members, envoy#8440) or twemproxy.
   * @default TLS off inside the topology
   */
  readonly tlsSecretName?: string;
  /** redis_exporter sidecar on port 9121 beside every member. @default off */
  readonly metrics?: ClusterMetricsOptions;
  /** The connection ConfigMap; false leaves it out. @default published in the namespace */
  readonly connectionConfigMap?: ClusterConfigMapOptions | false;
  /** A Secret with the password (key `password`) in application namespaces, which are then admitted. Only with RedisAuth.generated(). @default not published */
  readonly passwordSecret?: PasswordSecretOptions;
  /** Terraform outputs. @default true */
  readonly outputs?: boolean;
  /** Prefix of the Terraform output names. @default 'redis_<namespace>_<name>' with '-' as '_' */
  readonly outputPrefix?: string;
  /** How long the bootstrap waits for every member, and a member's boot may take. @default 600 */
  readonly bootTimeoutSeconds?: number;
  /** Upper bound of a primary's handover to its replica before its pod stops. @default 20 */
  readonly handoverSeconds?: number;
  /**
   * Lets a plan remove shards. Without it, a plan with fewer shards than the cluster runs fails at
   * `terraform plan` (a precondition reads the shard StatefulSets in the namespace), because
   * removing a shard's StatefulSet and claims deletes the data of its slots. Set it only after the
   * slots of the shards to remove were moved away (README: Scale-in), and unset it again after.
   * @default false
   */
  readonly allowShardRemoval?: boolean;
  /**
   * Scheduled backups to object storage, a CronJob per shard (Backups.toObjectStorage), or none on
   * purpose (Backups.disabled()).
   * @default none, with a synth warning that asks for one of the two
   */
  readonly backup?: Backups;
  /**
   * Initial data from a backup: at the cluster's first boot, member 0 of each shard loads the backup
   * of the same slot range (the same ring position behind twemproxy) before it serves or joins;
   * its replicas then sync from it. The backup must come from a cluster with the same shard count.
   * @default none: the cluster starts empty
   */
  readonly restoreFrom?: RestoreFrom;
}

export interface ClusterMetricsOptions extends MetricsAccessOptions {
  /** @default 'oliver006/redis_exporter:v1.67.0' */
  readonly image?: string;
}

/**
 * Redis Cluster over 16,384 slots: shards of a primary and replicas, each shard a StatefulSet whose
 * members never share a node (and, with zone spread, a zone), with clients speaking the Cluster
 * protocol to the members (OSS policy) or one TLS endpoint through Envoy (enterprise policy). The
 * same cluster re-forms, with its node ids and data, after every pod is re-created at a new address.
 */
export class ShardedRedisCluster extends Construct implements IRedisCluster {
  public readonly name: string;
  public readonly namespace: string;
  public readonly dataMemberHosts: string[];
  public readonly redisPort = REDIS_PORT;
  public readonly busPort = BUS_PORT;
  public readonly auth: RedisAuthSecretRef;
  public readonly tlsEnabled: boolean;
  public readonly tlsSecretName?: string;
  public readonly accessTarget: AccessTarget;
  public readonly shards: IRedisCluster['shards'];
  public readonly serviceHost: string;
  public readonly policy: 'oss' | 'enterprise' | 'twemproxy';
  public readonly proxyHost?: string;
  public readonly proxyPort?: number;
  /** The password, sensitive (a Terraform reference), with RedisAuth.generated(). */
  public readonly password?: string;
  public readonly model: ShardedRedisClusterModel;
  public readonly configFiles: Readonly<Record<string, string>>;
  public readonly scriptFiles: Readonly<Record<string, string>>;
  /** One StatefulSet per shard, shard order. */
  public readonly shardStatefulSets: StatefulSetV1[] = [];
  /** The bootstrap Job (undefined behind twemproxy: standalone shards form no cluster). */
  public readonly bootstrapJob?: JobV1;
  /** The bootstrap Job's name, `<name>-bootstrap-<hash of layout and scripts>` (undefined behind twemproxy). */
  public readonly bootstrapJobName?: string;
  public readonly accessPolicy: AccessPolicy;
  public readonly connection: ClusterConnectionContract;
  /** The Envoy proxy (enterprise policy) or nutcracker (twemproxy policy). */
  public readonly proxy?: ClusterProxy | TwemproxyProxy;
  /** The scheduled backups (undefined without Backups.toObjectStorage). */
  public readonly backupSchedule?: BackupSchedule;
  /** Where this cluster's backups are, for a RestoreFrom (undefined without backups). */
  public readonly backupSource?: BackupSource;

  constructor(scope: Construct, id: string, props: ShardedRedisClusterProps) {
    super(scope, id);
    this.validate(props);
    const name = resourceName(this, props.name, 40);
    const sizing = props.sizing;
    const shards = sizing?.shards ?? props.shards ?? 3;
    const policy = props.policy ?? ClusterPolicy.oss();
    const standalone = policy.kind === 'twemproxy';
    const replicas = props.replicasPerShard ?? (standalone ? 0 : 1);
    const memoryLimit = sizing?.memoryLimit ?? props.memoryLimit ?? '1Gi';
    const cpuRequest = sizing?.cpuRequest ?? props.cpuRequest ?? '250m';
    const persistence = props.persistence ?? Persistence.aofEverySecond();
    const auth = props.auth ?? RedisAuth.generated();
    const aclUsers = props.aclUsers ?? [];
    const headless = childName(name, 'headless');
    this.name = name;
    this.namespace = props.namespace;
    this.policy = policy.kind;
    const m: ShardedRedisClusterModel = {
      name,
      namespace: props.namespace,
      clusterDomain: props.clusterDomain ?? 'cluster.local',
      mode: standalone ? 'standalone' : 'cluster',
      shards,
      replicasPerShard: replicas,
      redisPort: REDIS_PORT,
      busPort: BUS_PORT,
      headlessService: headless,
      clusterNodeTimeoutMs: props.clusterNodeTimeoutMilliseconds ?? DEFAULT_CLUSTER_NODE_TIMEOUT_MS,
      tls: props.tlsSecretName !== undefined,
      maxmemoryBytes: maxmemoryBytes(memoryLimit, props.maxmemoryRatio ?? DEFAULT_MAXMEMORY_RATIO),
      evictionPolicy: (props.evictionPolicy ?? EvictionPolicy.NOEVICTION).value,
      timeoutSeconds: props.timeoutSeconds ?? 0,
      persistence: persistence.mode,
      rdbSavePoints: persistence.savePoints,
      aclUsers: aclUsers.map((u) => ({ name: u.name, rules: (u.permissions ?? AclPermissions.application()).rules })),
      bootTimeoutSeconds: props.bootTimeoutSeconds ?? 600,
      handoverSeconds: props.handoverSeconds ?? 20,
      restore: props.restoreFrom !== undefined,
    };
    this.model = m;
    const runAs = { uid: REDIS_UID };
    const restore = props.restoreFrom
      ? restorePodPieces(this, props.restoreFrom, { namespace: m.namespace, name, persistence: m.persistence, bootTimeoutSeconds: m.bootTimeoutSeconds, runAs, labels: this.labels('restore', 'redis') })
      : undefined;
    // What each shard's backups hold: a slot range of the cluster, or a position on twemproxy's ring.
    const shardIdentity = (s: number) => (standalone ? `ring:shard-${s}` : `slots:${slotRanges(shards)[s].first}-${slotRanges(shards)[s].last}`);

    // --- auth, rendered files --------------------------------------------------------------
    const secret = authSecret(this, { auth, aclUserNames: aclUsers.map((u) => u.name), secretName: childName(name, 'auth'), namespace: m.namespace, labels: this.labels('auth', 'redis') });
    this.auth = secret.ref;
    this.password = secret.password;
    this.configFiles = { 'redis.conf': renderClusterRedisConf(m), 'acl-rules': renderAclRules(m) };
    this.scriptFiles = { ...renderClusterScripts(m), ...restore?.scriptFiles };
    const configMap = new ConfigMapV1(this, 'Config', kubernetesObject(this, 'ConfigMap', {
      metadata: { name: childName(name, 'config'), namespace: m.namespace, labels: this.labels('config', 'redis') },
      data: { ...this.configFiles },
    }));
    const scriptsMap = new ConfigMapV1(this, 'Scripts', kubernetesObject(this, 'ConfigMap', {
      metadata: { name: childName(name, 'scripts'), namespace: m.namespace, labels: this.labels('config', 'redis') },
      data: { ...this.scriptFiles },
    }));
    const pick = (files: Readonly<Record<string, string>>, keys: readonly string[]) => Object.fromEntries(keys.filter((k) => files[k] !== undefined).map((k) => [k, files[k]]));
    // Members roll on a change of what they read; layout.sh and the bootstrap are not among it, so
    // adding a shard restarts no member.
    const memberChecksum = checksumAnnotations(pick(this.configFiles, MEMBER_CONFIG_FILES), pick(this.scriptFiles, MEMBER_SCRIPTS));
    const sizingAnnotations = sizing ? sizing.annotations() : {};

    // --- members: one StatefulSet per shard behind one headless Service ----------------------
    const image = props.image ?? 'redis:7.2.7';
    const memberId = this.identity('member', 'redis');
    const memberSelector = selectorLabels(memberId);
    const headlessService = new ServiceV1(this, 'Headless', kubernetesObject(this, 'Service', {
      metadata: { name: headless, namespace: m.namespace, labels: standardLabels(memberId) },
      spec: {
        clusterIp: 'None',
        // Members find each other by name before they are ready (a cluster is ready only once formed).
        publishNotReadyAddresses: true,
        selector: memberSelector,
        port: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis' }, ...(standalone ? [] : [{ name: 'bus', port: BUS_PORT, targetPort: 'bus' }])],
      },
    }));
    new ServiceV1(this, 'Service', kubernetesObject(this, 'Service', {
      metadata: { name, namespace: m.namespace, labels: standardLabels(memberId) },
      spec: { type: 'ClusterIP', selector: memberSelector, port: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis' }] },
    }));
    const volumes = redisPodVolumes({ configMapName: configMap.metadata.name, scriptsMapName: scriptsMap.metadata.name, authSecretName: this.auth.secretName, passwordKey: auth.passwordKey, aclUserNames: aclUsers.map((u) => u.name), tlsSecretName: props.tlsSecretName });
    const zoneSpread = props.zoneSpread ?? Spread.PREFERRED;
    const nodeSpread = props.nodeSpread ?? Spread.REQUIRED;
    // The shard StatefulSets the namespace runs now, read at plan time: fewer shards in the plan
    // fail it (see allowShardRemoval).
    const existingShards = props.allowShardRemoval === true || standalone ? undefined : new DataKubernetesResources(this, 'RunningShards', terraformLiterals({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      namespace: m.namespace,
      labelSelector: Object.entries(memberSelector).map(([k, v]) => `${k}=${v}`).join(','),
    }));
    const backupAnnotation = { 'redis-topologies.io/backups': props.backup === undefined ? 'none' : props.backup.enabled ? `${props.backup.options.schedule ?? '0 * * * *'} to ${props.backup.options.storage}` : 'disabled' };
    for (let s = 0; s < shards; s++) {
      const stsName = shardStatefulSetName(name, s);
      const shardLabels = { ...standardLabels(memberId), [SHARD_LABEL]: String(s) };
      const shardSelector = { ...memberSelector, [SHARD_LABEL]: String(s) };
      const claims = props.storage._claims(this, `Shard${s}Claim`, {
        templateName: 'data', statefulSetName: stsName, namespace: m.namespace, replicas: replicas + 1, replicasProp: 'replicasPerShard', labels: shardLabels,
      });
      const shardPlacement = placement(shardSelector, { zoneSpread, nodeSpread, nodeSelector: props.nodeSelector, tolerations: props.tolerations });
      const container: any = redisDataContainer({
        image, port: REDIS_PORT, memoryLimit, cpuRequest, cpuLimit: props.cpuLimit, tls: m.tls, runAs,
        entrypoint: 'member-entrypoint.sh', probe: 'member-probe.sh', preStop: 'member-prestop.sh', bootTimeoutSeconds: m.bootTimeoutSeconds,
        extraPorts: standalone ? [] : [{ name: 'bus', containerPort: BUS_PORT }],
      });
      // The pod's address: written into nodes.conf and announced on the bus before the server starts.
      container.env = [...container.env, fieldEnv('POD_IP', 'status.podIP')];
      const containers: any[] = [container];
      if (props.metrics) containers.push(metricsSidecar({ image: props.metrics.image, redisPort: REDIS_PORT, tls: m.tls, authSecretName: this.auth.secretName, passwordKey: auth.passwordKey }));
      const lifecycle = s === 0 && existingShards ? { ...claims.lifecycle, precondition: [shardRemovalGuard(existingShards, shards, name)] } : claims.lifecycle;
      this.shardStatefulSets.push(new StatefulSetV1(this, `Shard${s}`, kubernetesObject(this, 'StatefulSet', {
        metadata: { name: stsName, namespace: m.namespace, labels: shardLabels, annotations: backupAnnotation },
        spec: {
          serviceName: headlessService.metadata.name,
          replicas: String(replicas + 1),
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: shardSelector },
          updateStrategy: [{ type: 'RollingUpdate' }],
          template: {
            metadata: { labels: { ...shardLabels, ...restore?.podLabels }, annotations: { ...memberChecksum, ...sizingAnnotations } },
            spec: {
              serviceAccountName: restore?.serviceAccountName,
              automountServiceAccountToken: AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
              enableServiceLinks: false,
              terminationGracePeriodSeconds: m.handoverSeconds + 10,
              securityContext: restrictedPodSecurityContext(runAs),
              ...shardPlacement,
              // Besides keeping a shard's members apart (required node anti-affinity, zone spread),
              // spread all members over zones, so primaries of different shards do not pile up.
              topologySpreadConstraint: [...shardPlacement.topologySpreadConstraint, {
                maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: [{ matchLabels: { ...memberSelector } }],
              }],
              initContainer: restore ? [restore.initContainer(shardIdentity(s))] : undefined,
              container: containers,
              volume: [...volumes, ...(props.storage.kind === 'ephemeral' ? [{ name: 'data', emptyDir: { sizeLimit: props.storage.size } }] : []), ...(restore?.volumes ?? [])],
            },
          },
          volumeClaimTemplate: claims.template,
        },
        // Members are ready only once they joined the cluster, which the bootstrap Job (after them) does:
        // waiting for the rollout here would wait for the Job that waits for this.
        waitForRollout: false,
        lifecycle,
        dependsOn: claims.dependsOn,
      })));
    }
    new PodDisruptionBudgetV1(this, 'MemberPdb', kubernetesObject(this, 'PodDisruptionBudget', {
      metadata: { name: childName(name, 'members'), namespace: m.namespace, labels: standardLabels(memberId) },
      // One member at a time, cluster-wide: never both members of a one-replica shard.
      spec: { maxUnavailable: '1', selector: { matchLabels: memberSelector } },
    }));

    // --- bootstrap Job -----------------------------------------------------------------------
    const bootstrapId = this.identity('bootstrap', 'redis');
    const layout = `${shards}x${replicas + 1}`;
    const bootstrapChecksum = checksumAnnotations(pick(this.scriptFiles, ['common.sh', 'layout.sh', 'cluster-bootstrap.sh']));
    // The Job's name carries the layout and its scripts' checksum: Job templates are immutable and the
    // provider patches no template change, so a new name (a replacement) is what runs it again.
    const bootstrapName = childName(name, `bootstrap-${shortHash(layout + JSON.stringify(bootstrapChecksum))}`);
    this.bootstrapJobName = standalone ? undefined : bootstrapName;
    const JobV1 = jobV1Binding();
    this.bootstrapJob = standalone ? undefined : new JobV1(this, 'Bootstrap', kubernetesObject(this, 'Job', {
      metadata: { name: bootstrapName, namespace: m.namespace, labels: standardLabels(bootstrapId) },
      spec: {
        backoffLimit: 6,
        // Bounded: a rebalance that outlives it is finished by the next run (redis-cli --cluster fix).
        activeDeadlineSeconds: m.bootTimeoutSeconds + 1800,
        template: {
          // The layout in the template: a new layout replaces the Job (its template cannot change),
          // so the bootstrap runs again and adds what the layout adds.
          metadata: { labels: standardLabels(bootstrapId), annotations: { 'redis-topologies.io/layout': layout, ...bootstrapChecksum } },
          spec: {
            restartPolicy: 'OnFailure',
            automountServiceAccountToken: AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(runAs),
            nodeSelector: props.nodeSelector ? { ...props.nodeSelector } : undefined,
            container: [{
              name: 'bootstrap',
              image,
              command: ['sh', `${PATHS.scripts}/cluster-bootstrap.sh`],
              env: [fieldEnv('POD_NAME', 'metadata.name'), { name: 'HOME', value: PATHS.tmp }],
              resources: { requests: { memory: '64Mi', cpu: '50m' }, limits: { memory: '64Mi' } },
              volumeMount: redisPodMounts(m.tls),
              securityContext: restrictedContainerSecurityContext(runAs),
            }],
            volume: volumes,
          },
        },
      },
      // The apply waits for the cluster to be formed (every replica in sync), and fails if it is not.
      waitForCompletion: true,
      timeouts: { create: `${m.bootTimeoutSeconds + 1800}s`, update: `${m.bootTimeoutSeconds + 1800}s` },
      dependsOn: this.shardStatefulSets,
    }));

    // --- interface attributes ----------------------------------------------------------------
    const ranges = slotRanges(shards);
    this.shards = ranges.map((slots, s) => ({
      index: s,
      memberHosts: Array.from({ length: replicas + 1 }, (_, i) => clusterMemberHost(m, s, i)),
      initialSlots: standalone ? undefined : slots,
    }));
    this.dataMemberHosts = this.shards.flatMap((s) => s.memberHosts);
    this.serviceHost = `${name}.${m.namespace}`;
    this.tlsEnabled = m.tls;
    this.tlsSecretName = props.tlsSecretName;
    this.accessTarget = {
      namespace: m.namespace,
      name,
      podSelector: topologySelector(name, SHARDED_REDIS_CLUSTER_PART_OF),
      clientPorts: [REDIS_PORT],
    };

    // --- enterprise policy: one endpoint through Envoy ----------------------------------------
    // Clients (named, labelled, or where the details are published) are admitted to the proxy;
    // the members admit only their peers and the proxy.
    const published = clusterContractNamespaces(m.namespace, props.connectionConfigMap, props.passwordSecret).filter((ns) => ns !== m.namespace);
    const enterprise = policy.kind !== 'oss';
    const proxyAccess = { clients: props.clients, accessLabel: props.accessLabel, dns: props.dns, publishedNamespaces: published };
    if (policy.kind === 'enterprise') {
      this.proxy = new ClusterProxy(this, 'Proxy', {
        cluster: this, options: policy.enterpriseOptions!, ...proxyAccess,
        identity: { name: 'envoy', instance: name, component: 'proxy', partOf: `${SHARDED_REDIS_CLUSTER_PART_OF}-proxy` },
      });
    } else if (policy.kind === 'twemproxy') {
      this.proxy = new TwemproxyProxy(this, 'Proxy', {
        cluster: this, options: policy.twemproxyOptions!, ...proxyAccess,
        identity: { name: 'twemproxy', instance: name, component: 'proxy', partOf: `${SHARDED_REDIS_CLUSTER_PART_OF}-proxy` },
      });
    }

    this.connection = new ClusterConnectionContract(this, 'Connection', {
      details: {
        clusterName: name,
        namespace: m.namespace,
        memberHosts: this.dataMemberHosts,
        serviceHost: this.serviceHost,
        redisPort: REDIS_PORT,
        tls: m.tls,
        proxyHost: this.proxy?.host,
        proxyPort: this.proxy?.port,
        proxyCaCertificatePem: this.proxy instanceof ClusterProxy ? this.proxy.caCertificatePem : undefined,
        mode: policy.kind,
        password: this.password,
      },
      configMap: props.connectionConfigMap,
      passwordSecret: props.passwordSecret,
      outputs: props.outputs,
      outputPrefix: props.outputPrefix,
      labels: this.labels('connection', 'redis'),
    });

    if (this.proxy) {
      this.proxyHost = this.proxy.host;
      this.proxyPort = this.proxy.port;
    }

    // --- backups: a CronJob per shard, reaching the members like any client -------------------
    if (props.backup?.enabled) {
      this.backupSchedule = new BackupSchedule(this, 'Backup', {
        backups: props.backup,
        target: {
          namespace: m.namespace, name, partOf: SHARDED_REDIS_CLUSTER_PART_OF, kind: standalone ? 'standalone' : 'cluster', redisPort: REDIS_PORT,
          tlsSecretName: props.tlsSecretName, authSecretName: this.auth.secretName, passwordKey: auth.passwordKey, image, memoryLimit,
          podSelector: this.accessTarget.podSelector,
          shards: this.shards.map((s) => ({ path: `shard-${s.index}`, hosts: s.memberHosts })),
          dns: props.dns, nodeSelector: props.nodeSelector, tolerations: props.tolerations,
        },
      });
      this.backupSource = this.backupSchedule.source;
    } else if (props.backup === undefined) {
      Annotations.of(this).addWarning(`${this.node.path}: no backups. Set backup: Backups.toObjectStorage({ ... }), or Backups.disabled() to leave them off on purpose.`);
    }
    const backupClients = this.backupSchedule ? [AccessClient.pods(this.backupSchedule.podSelector)] : [];

    // --- access ------------------------------------------------------------------------------
    // Clients reach the client port of every member (OSS clients follow MOVED to any of them); the
    // bus port is between the topology's own pods only. The proxy (enterprise) is one of them.
    this.accessPolicy = new AccessPolicy(this, 'Access', {
      ...this.accessTarget,
      peerPorts: standalone ? [] : [REDIS_PORT, BUS_PORT],
      clients: [...(enterprise ? [] : [...(props.clients ?? []), ...published.map((ns) => AccessClient.namespace(ns))]), ...backupClients],
      accessLabel: enterprise ? false : props.accessLabel,
      egress: restore?.egress,
      dns: props.dns,
      metricsPorts: props.metrics ? [METRICS_PORT] : undefined,
      metrics: props.metrics,
    });
  }

  private identity(component: string, app: string) {
    return { name: app, instance: this.name, component, partOf: SHARDED_REDIS_CLUSTER_PART_OF };
  }

  private labels(component: string, app: string): Record<string, string> {
    return standardLabels(this.identity(component, app));
  }

  private validate(props: ShardedRedisClusterProps): void {
    const v = new PropsValidator(this);
    if (!v.required('props', props, 'object', 'a ShardedRedisClusterProps object')) v.throwIfInvalid();
    validateNamespace(v, 'namespace', props.namespace, true);
    const NAME = 'a DNS-1123 label of at most 40 characters (room for suffixes like -shard-12-3)';
    if (v.type('name', props.name, 'string', NAME) && v.known('name', props.name, 'object names and the DNS names in the rendered scripts are derived from it')) {
      v.check('name', props.name, (n) => isDnsLabel(n, 40), NAME);
    }
    if (DataStorage._check(v, 'storage', props.storage) && props.storage.kind === 'ephemeral' && !(props.policy instanceof ClusterPolicy && props.policy.kind === 'twemproxy')) {
      v.fail('storage', 'DataStorage.ephemeral()', 'persistent storage (DataStorage.encrypted(...) or, explicitly, DataStorage.unencrypted(...)): a member keeps its node id, peers and epochs in nodes.conf, which must survive the pod\'s re-creation for the cluster to re-form');
    }

    // Layout.
    v.known('shards', props.shards, 'one StatefulSet per shard and its slot range are derived from it');
    v.known('replicasPerShard', props.replicasPerShard, 'each member\'s DNS name and volume claim are derived from it');
    const twemproxy = props.policy instanceof ClusterPolicy && props.policy.kind === 'twemproxy';
    if (twemproxy) {
      v.integer('shards', props.shards, 2, 64);
      v.check('replicasPerShard', props.replicasPerShard, (n) => n === 0, '0 with ClusterPolicy.twemproxy(): twemproxy never fails over to a replica (use the oss or enterprise policy for replicas that take over)');
    } else {
      v.check('shards', props.shards, (n) => Number.isInteger(n) && n >= 3 && n <= 64, SHARDS_HERE);
      v.integer('replicasPerShard', props.replicasPerShard, 1, 5);
    }
    if (props.sizing !== undefined && ClusterSizing._check(v, 'sizing', props.sizing)) {
      for (const p of ['shards', 'memoryLimit', 'cpuRequest'] as const) {
        if (props[p] !== undefined) v.fail(p, props[p], `unset when sizing is given (${props.sizing.source} sets it)`);
      }
      if (!v.failed('sizing')) v.check('sizing', props.sizing, (z) => z.shards >= 3 && z.shards <= 64, `a sizing of 3 to 64 shards (${props.sizing.shards} given): ${SHARDS_HERE}`);
    }
    if (v.option('policy', props.policy, ClusterPolicy, CLUSTER_POLICY_FACTORIES) && props.policy?.kind === 'twemproxy') {
      TwemproxyProxy.validateOptions(v, 'policy', props.policy.twemproxyOptions);
      if (props.tlsSecretName !== undefined) v.fail('tlsSecretName', props.tlsSecretName, 'unset with ClusterPolicy.twemproxy(): twemproxy speaks no TLS to the shards');
    }
    if (props.policy instanceof ClusterPolicy && props.policy.kind === 'enterprise') {
      ClusterProxy.validateOptions(v, 'policy', props.policy.enterpriseOptions);
      if (props.tlsSecretName !== undefined) {
        v.fail('tlsSecretName', props.tlsSecretName, 'unset with ClusterPolicy.enterprise(): Envoy cannot reach members that require TLS with AUTH (envoyproxy/envoy#8440); the proxy speaks TLS to clients, and the members stay behind the network policy');
      }
    }

    // Image and resources.
    v.string('image', props.image, isImage, IMAGE_ALLOWED);
    validateResources(v, { cpuRequest: props.cpuRequest, cpuLimit: props.cpuLimit, memoryLimit: props.memoryLimit }, {});
    v.known('memoryLimit', props.memoryLimit, 'maxmemory in redis.conf is derived from it when the plan is written');
    if (typeof props.memoryLimit === 'string' && isMemory(props.memoryLimit) && maxmemoryBytes(props.memoryLimit, 1) < 32 * 2 ** 20) {
      v.fail('memoryLimit', props.memoryLimit, 'at least 32Mi');
    }
    validateRatio(v, 'maxmemoryRatio', props.maxmemoryRatio, 0.1, 0.95, 'Redis needs headroom for fork and buffers');
    v.known('maxmemoryRatio', props.maxmemoryRatio, 'maxmemory in redis.conf is derived from it when the plan is written');
    v.option('evictionPolicy', props.evictionPolicy, EvictionPolicy, EVICTION_POLICY_FACTORIES);
    v.option('persistence', props.persistence, Persistence, PERSISTENCE_FACTORIES);

    // Durations.
    v.integer('timeoutSeconds', props.timeoutSeconds, 0, 7 * 24 * 3600);
    v.integer('clusterNodeTimeoutMilliseconds', props.clusterNodeTimeoutMilliseconds, 1000, 60000);
    v.integer('bootTimeoutSeconds', props.bootTimeoutSeconds, 30, 3600);
    v.integer('handoverSeconds', props.handoverSeconds, 5, 300);
    v.type('allowShardRemoval', props.allowShardRemoval, 'boolean', 'true or false');

    validatePlacement(v, props);
    v.string('tlsSecretName', props.tlsSecretName, isDnsSubdomain, 'a Secret name');
    validateAuth(v, props.auth, props.aclUsers);
    if (v.type('metrics', props.metrics, 'object', 'metrics options { image?, namespace? }') && props.metrics) {
      v.string('metrics.image', props.metrics.image, isImage, IMAGE_ALLOWED);
    }
    v.type('outputs', props.outputs, 'boolean', 'true or false');
    validatePasswordSecret(v, 'passwordSecret', props.passwordSecret, !(props.auth instanceof RedisAuth) || props.auth.source === 'generated',
      'only with RedisAuth.generated(): with RedisAuth.fromExistingSecret the password is in your Secret, which Terraform never reads; copy that Secret into the application namespaces yourself');
    if (v.option('backup', props.backup, Backups, BACKUPS_FACTORIES) && props.backup) props.backup._validate(v, 'backup');
    if (v.option('restoreFrom', props.restoreFrom, RestoreFrom, RESTORE_FROM_FACTORIES) && props.restoreFrom) props.restoreFrom._validate(v, 'restoreFrom');
    v.throwIfInvalid();
  }
}

/** Eight hex digits of SHA-256: a short, stable suffix for names that must change with their input. */
function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * The precondition that fails a plan removing shards: the shard StatefulSets running now (read by
 * `existing` at plan time) must be no more than the plan's `shards`.
 */
function shardRemovalGuard(existing: DataKubernetesResources, shards: number, name: string) {
  return {
    condition: Op.lte(Fn.lengthOf(existing.objects), shards),
    errorMessage: `This plan removes shards of the Redis Cluster "${name}": it has ${shards} shards, fewer than the shard StatefulSets running. Their StatefulSets and volume claims, and the data of their slots, would be deleted. Move their slots to the remaining shards first, then set allowShardRemoval: true for this one plan (README: Scale-in).`,
  };
}
