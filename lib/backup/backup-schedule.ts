import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { DnsEgressOptions } from '../access/access-policy';
import { EgressPolicy } from '../access/egress-policy';
import { cronJobV1Binding } from '../core/bindings';
import { selectorLabels, standardLabels } from '../core/labels';
import { childName } from '../core/names';
import { besidePod, fieldEnv, podTolerations, Toleration } from '../core/pod-template';
import { AUTOMOUNT_SERVICE_ACCOUNT_TOKEN, REDIS_UID, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../core/pod-security';
import { kubernetesObject } from '../core/registry';
import { PATHS } from '../redis/paths';
import { authItems } from '../redis/data-member';
import { BACKUP_SCRIPTS_DIR, BACKUP_WORK_DIR, BackupScriptModel, renderBackupScripts } from './backup-scripts';
import { backupRoot, Backups, BackupSource, DEFAULT_RCLONE_IMAGE, rcloneEnv } from './backups';
import { CRYPT_KEY_DIR } from './object-storage';

/** The topology a BackupSchedule backs up, as its construct knows it. */
export interface BackupTarget {
  readonly namespace: string;
  readonly name: string;
  /** The topology's part-of label value; the backup pods are `<partOf>-backup`, outside the topology's own selector. */
  readonly partOf: string;
  readonly kind: BackupScriptModel['kind'];
  readonly redisPort: number;
  readonly tlsSecretName?: string;
  readonly authSecretName: string;
  /** The auth Secret's key with the password (mounted as `password`). */
  readonly passwordKey: string;
  /** The topology's Redis image: redis-cli and redis-check-rdb of the same version as the servers. */
  readonly image: string;
  /** The data containers' memory limit: an RDB is smaller, so it bounds the scratch volume. */
  readonly memoryLimit: string;
  /** Selects every pod of the topology: the backup pods may reach them on the client port. */
  readonly podSelector: Record<string, string>;
  /** One per shard (one for SentinelRedis): its directory name and its members' DNS names. */
  readonly shards: ReadonlyArray<{ readonly path: string; readonly hosts: readonly string[] }>;
  /**
   * Kvrocks (FlashTierRedis): its checkpoint is written on a member's own volume, so there is one
   * CronJob per member, whose Job runs beside that member and reads its claim read-only. In shard 0's
   * host order. @default Redis: one CronJob per shard, reaching the members over the network only
   */
  readonly kvrocksMembers?: ReadonlyArray<{ readonly podName: string; readonly claimName: string }>;
  readonly dns?: DnsEgressOptions;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: Toleration[];
}

export interface BackupScheduleProps {
  /** Backups.toObjectStorage(...), validated by the topology. */
  readonly backups: Backups;
  readonly target: BackupTarget;
}

/**
 * Scheduled backups of one topology: a dedicated ServiceAccount, the scripts ConfigMap, one
 * CronJob per shard (concurrencyPolicy Forbid, a deadline, a bounded history) and deny-by-default
 * policies that let the backup pods reach DNS, the topology's client port and the object store only.
 * Each Job's init container takes and verifies the snapshot (the topology's Redis image); its main
 * container uploads it, proves the stored copy and applies retention (rclone's image). A failed step
 * fails the Job. For Kvrocks (`target.kvrocksMembers`) there is one CronJob per member instead,
 * beside it and reading its claim read-only, since the checkpoint is written on the member's volume.
 */
export class BackupSchedule extends Construct {
  /** Labels that select the backup pods (the topology admits them as a client). */
  public readonly podSelector: Record<string, string>;
  /** The CronJobs, in shard order. */
  public readonly cronJobs: CronJobV1[] = [];
  /** Where the backups are, for a RestoreFrom elsewhere. */
  public readonly source: BackupSource;
  /** The rendered files of the backup ConfigMap. */
  public readonly scriptFiles: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: BackupScheduleProps) {
    super(scope, id);
    const t = props.target;
    const o = props.backups.options;
    const storage = o.storage!;
    const crypt = o.clientSideEncryption;
    const identity = { name: 'redis-backup', instance: t.name, component: 'backup', partOf: `${t.partOf}-backup` };
    const kvrocks = t.kvrocksMembers;
    const labels = standardLabels(identity);
    this.podSelector = selectorLabels(identity);
    this.source = { storage, namespace: t.namespace, name: t.name, clientSideEncryption: crypt, egress: [...o.egress!], rcloneImage: o.rcloneImage, ...(t.kvrocksMembers ? { engine: 'kvrocks' as const } : {}) };
    const baseName = childName(t.name, 'backup');

    const model: BackupScriptModel = {
      namespace: t.namespace,
      name: t.name,
      kind: t.kind,
      redisPort: t.redisPort,
      tls: t.tlsSecretName !== undefined,
      shards: t.shards,
      root: backupRoot({ storage, clientSideEncryption: crypt }, t.namespace, t.name),
      crypt: crypt !== undefined,
      keepLast: o.retention?.keepLast ?? 30,
      maxAgeDays: o.retention?.maxAgeDays ?? 0,
      snapshotTimeoutSeconds: o.deadlineSeconds ?? 3600,
      ...(kvrocks ? { engine: 'kvrocks' as const } : {}),
    };
    this.scriptFiles = renderBackupScripts(model);

    const serviceAccount = new ServiceAccountV1(this, 'ServiceAccount', kubernetesObject(this, 'ServiceAccount', {
      metadata: { name: baseName, namespace: t.namespace, labels, annotations: { ...storage.credentials.serviceAccountAnnotations } },
      automountServiceAccountToken: false,
    }));
    const scripts = new ConfigMapV1(this, 'Scripts', kubernetesObject(this, 'ConfigMap', {
      metadata: { name: childName(t.name, 'backup-scripts'), namespace: t.namespace, labels },
      data: { ...this.scriptFiles },
    }));

    const runAs = { uid: REDIS_UID };
    const podLabels = { ...labels, ...storage.credentials.podLabels };
    const volumes = [
      { name: 'backup-scripts', configMap: { name: scripts.metadata.name, defaultMode: '0555' } },
      // The password only (not the ACL users' keys), as the scripts read it.
      { name: 'auth', secret: { secretName: t.authSecretName, defaultMode: '0440', items: authItems(t.passwordKey) } },
      // The snapshot between the two containers: an RDB is smaller than the data container's memory.
      // A Kvrocks checkpoint stays on the member's volume: only its file list and manifest are here.
      { name: 'work', emptyDir: { sizeLimit: kvrocks ? '64Mi' : t.memoryLimit } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      ...(t.tlsSecretName !== undefined ? [{ name: 'tls', secret: { secretName: t.tlsSecretName, defaultMode: '0440' } }] : []),
      ...(crypt ? [{ name: 'crypt', secret: { secretName: crypt.secretName, defaultMode: '0440' } }] : []),
    ];
    const common = [
      { name: 'backup-scripts', mountPath: BACKUP_SCRIPTS_DIR, readOnly: true },
      { name: 'work', mountPath: BACKUP_WORK_DIR },
      { name: 'tmp', mountPath: PATHS.tmp },
    ];
    const env = [fieldEnv('POD_NAME', 'metadata.name'), { name: 'HOME', value: PATHS.tmp }];
    const deadline = o.deadlineSeconds ?? 3600;
    const history = o.jobHistory ?? 3;
    const CronJobV1 = cronJobV1Binding();

    const cronJob = (id: string, name: string, extraLabels: Record<string, string>, snapshotArgs: string[], member?: { podName: string; claimName: string }) => {
      const jobLabels = { ...podLabels, ...extraLabels };
      // A Kvrocks member's Job runs beside it and reads the checkpoint from its claim, read-only.
      const dataMount = member ? [{ name: 'data', mountPath: PATHS.data, readOnly: true }] : [];
      return new CronJobV1(this, id, kubernetesObject(this, 'CronJob', {
        metadata: { name, namespace: t.namespace, labels: { ...labels, ...extraLabels } },
        spec: {
          schedule: o.schedule ?? '0 * * * *',
          timezone: o.timeZone ?? 'Etc/UTC',
          // One backup of a shard at a time; a run that would start late by more than the deadline is skipped.
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds: Math.min(deadline, 3600),
          successfulJobsHistoryLimit: history,
          failedJobsHistoryLimit: history,
          jobTemplate: {
            metadata: { labels: jobLabels },
            spec: {
              // A failed backup is a failed Job (one retry), visible in the CronJob's history.
              backoffLimit: 1,
              activeDeadlineSeconds: deadline,
              template: {
                metadata: { labels: jobLabels },
                spec: {
                  restartPolicy: 'Never',
                  serviceAccountName: serviceAccount.metadata.name,
                  automountServiceAccountToken: AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
                  enableServiceLinks: false,
                  securityContext: restrictedPodSecurityContext(runAs),
                  affinity: member ? besidePod(member.podName) : undefined,
                  nodeSelector: t.nodeSelector ? { ...t.nodeSelector } : undefined,
                  toleration: podTolerations(t.tolerations),
                  initContainer: [{
                    name: 'snapshot',
                    image: t.image,
                    command: ['sh', `${BACKUP_SCRIPTS_DIR}/snapshot.sh`, ...snapshotArgs],
                    env,
                    // redis-check-rdb holds one whole value at a time: the largest is bounded by maxmemory.
                    // Hashing a checkpoint streams its files.
                    resources: { requests: { memory: '64Mi', cpu: '50m' }, limits: { memory: member ? '256Mi' : t.memoryLimit } },
                    volumeMount: [
                      ...common,
                      ...dataMount,
                      { name: 'auth', mountPath: PATHS.auth, readOnly: true },
                      ...(t.tlsSecretName !== undefined ? [{ name: 'tls', mountPath: PATHS.tls, readOnly: true }] : []),
                    ],
                    securityContext: restrictedContainerSecurityContext(runAs),
                  }],
                  container: [{
                    name: 'upload',
                    image: o.rcloneImage ?? DEFAULT_RCLONE_IMAGE,
                    command: ['sh', `${BACKUP_SCRIPTS_DIR}/upload.sh`],
                    env: [...env, ...rcloneEnv({ storage, clientSideEncryption: crypt })],
                    resources: { requests: { memory: '256Mi', cpu: '100m' }, limits: { memory: '256Mi' } },
                    volumeMount: [...common, ...dataMount, ...(crypt ? [{ name: 'crypt', mountPath: CRYPT_KEY_DIR, readOnly: true }] : [])],
                    securityContext: restrictedContainerSecurityContext(runAs),
                  }],
                  volume: [...volumes, ...(member ? [{ name: 'data', persistentVolumeClaim: { claimName: member.claimName, readOnly: true } }] : [])],
                },
              },
            },
          },
        },
      }));
    };

    if (kvrocks) {
      kvrocks.forEach((member, i) => {
        this.cronJobs.push(cronJob(`MemberCronJob${i}`, childName(t.name, `backup-${i}`), { 'redis-topologies.io/backup-shard': t.shards[0].path, 'redis-topologies.io/backup-member': member.podName }, ['0', String(i)], member));
      });
    } else {
      t.shards.forEach((shard, s) => {
        const single = t.shards.length === 1;
        this.cronJobs.push(cronJob(single ? 'CronJob' : `CronJob${s}`, single ? baseName : childName(t.name, `backup-${s}`), { 'redis-topologies.io/backup-shard': shard.path }, [String(s)]));
      });
    }

    new EgressPolicy(this, 'Access', {
      namespace: t.namespace,
      name: baseName,
      instance: t.name,
      podSelector: this.podSelector,
      dns: t.dns,
      egress: [
        { to: [{ podSelector: { matchLabels: { ...t.podSelector } } }], ports: [t.redisPort] },
        ...o.egress!.map((e) => ({ to: [e._peer()], ports: e.ports })),
      ],
    });
  }
}
