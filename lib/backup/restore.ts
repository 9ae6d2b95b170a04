import { Construct } from 'constructs';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import type { StatefulSetV1SpecTemplateSpecInitContainer, StatefulSetV1SpecTemplateSpecVolume } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { AccessEgress } from '../access/access-policy';
import { childName } from '../core/names';
import { fieldEnv } from '../core/pod-template';
import { restrictedContainerSecurityContext, RunAs } from '../core/pod-security';
import { kubernetesObject } from '../core/registry';
import { PATHS } from '../redis/paths';
import { renderRestoreScripts, RestoreScriptModel } from './backup-scripts';
import { backupRoot, DEFAULT_RCLONE_IMAGE, rcloneEnv, RestoreFrom } from './backups';
import { CRYPT_KEY_DIR } from './object-storage';

/** What a topology created with restoreFrom adds to its data pods. */
export interface RestorePodPieces {
  /** restore-fetch.sh and restore-load.sh, for the topology's scripts ConfigMap. */
  readonly scriptFiles: Record<string, string>;
  /** The crypt key Secret volume, when the backups are encrypted client-side. */
  readonly volumes: StatefulSetV1SpecTemplateSpecVolume[];
  /** Egress of the data pods to the object store (the download runs in them). */
  readonly egress: AccessEgress[];
  /** The ServiceAccount with the workload identity, when the store is reached through one. */
  readonly serviceAccountName?: string;
  /** Labels the identity webhook needs on the pods. */
  readonly podLabels: Record<string, string>;
  /** The download init container of a StatefulSet whose member 0 takes the backup of `identity`. */
  initContainer(identity: string): StatefulSetV1SpecTemplateSpecInitContainer;
}

/**
 * The restore side of a topology created with `restoreFrom`: the scripts, an init container that
 * downloads the backup onto member 0's data volume (rclone's image), and what it needs to reach the
 * store. The entrypoint then checks and loads it (restore-load.sh) before the server serves.
 */
export function restorePodPieces(scope: Construct, restore: RestoreFrom, t: {
  readonly namespace: string;
  readonly name: string;
  readonly persistence: RestoreScriptModel['persistence'];
  readonly bootTimeoutSeconds: number;
  readonly runAs: RunAs;
  readonly labels: Record<string, string>;
  /** Kvrocks: the backup is a checkpoint, restored as the db directory. @default Redis */
  readonly engine?: 'kvrocks';
}): RestorePodPieces {
  const src = restore.source;
  const crypt = src.clientSideEncryption;
  const scriptFiles = renderRestoreScripts({
    namespace: t.namespace,
    name: t.name,
    root: backupRoot(src, src.namespace, src.name),
    crypt: crypt !== undefined,
    selection: restore.selection,
    persistence: t.persistence,
    bootTimeoutSeconds: t.bootTimeoutSeconds,
    ...(t.engine ? { engine: t.engine } : {}),
  });
  const identity = src.storage.credentials;
  const serviceAccount = identity.kind === 'workload-identity'
    ? new ServiceAccountV1(scope, 'RestoreServiceAccount', kubernetesObject(scope, 'ServiceAccount', {
      metadata: { name: childName(t.name, 'restore'), namespace: t.namespace, labels: t.labels, annotations: { ...identity.serviceAccountAnnotations } },
      automountServiceAccountToken: false,
    }))
    : undefined;
  return {
    scriptFiles,
    volumes: crypt ? [{ name: 'restore-crypt', secret: { secretName: crypt.secretName, defaultMode: '0440' } }] : [],
    egress: [...src.egress],
    serviceAccountName: serviceAccount?.metadata.name,
    podLabels: { ...identity.podLabels },
    initContainer: (shardIdentity: string) => ({
      name: 'restore',
      image: src.rcloneImage ?? DEFAULT_RCLONE_IMAGE,
      command: ['sh', `${PATHS.scripts}/restore-fetch.sh`],
      env: [
        fieldEnv('POD_NAME', 'metadata.name'),
        { name: 'HOME', value: PATHS.tmp },
        { name: 'RESTORE_IDENTITY', value: shardIdentity },
        ...rcloneEnv(src),
      ],
      resources: { requests: { memory: '256Mi', cpu: '100m' }, limits: { memory: '256Mi' } },
      volumeMount: [
        { name: 'scripts', mountPath: PATHS.scripts, readOnly: true },
        { name: 'data', mountPath: PATHS.data },
        { name: 'tmp', mountPath: PATHS.tmp },
        ...(crypt ? [{ name: 'restore-crypt', mountPath: CRYPT_KEY_DIR, readOnly: true }] : []),
      ],
      securityContext: restrictedContainerSecurityContext(t.runAs),
    }),
  };
}
