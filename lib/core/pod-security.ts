/**
 * Pod and container security settings that pass the Pod Security Standard "restricted" profile:
 * non-root with a fixed UID, no privilege escalation, every capability dropped, the runtime's default
 * seccomp profile, and a read-only root filesystem wherever the process allows it.
 *
 * The shapes are those of the kubernetes provider's `*_v1` pod templates (StatefulSet, Deployment,
 * Job, CronJob), which all share the same structure.
 */

/** The `redis` user of the official redis and Debian images. */
export const REDIS_UID = 999;
/** The `haproxy` user of the official haproxy image. */
export const HAPROXY_UID = 99;

export interface RunAs {
  /** Numeric user id; must not be 0. */
  readonly uid: number;
  /** Numeric group id. @default the uid */
  readonly gid?: number;
  /** Group that owns mounted volumes. @default the gid */
  readonly fsGroup?: number;
}

export interface PodSecurityContext {
  readonly runAsNonRoot: boolean;
  readonly runAsUser: string;
  readonly runAsGroup: string;
  readonly fsGroup: string;
  readonly fsGroupChangePolicy: string;
  readonly seccompProfile: { readonly type: string };
}

export interface ContainerSecurityContext {
  readonly allowPrivilegeEscalation: boolean;
  readonly privileged: boolean;
  readonly readOnlyRootFilesystem: boolean;
  readonly runAsNonRoot: boolean;
  readonly runAsUser: string;
  readonly runAsGroup: string;
  readonly capabilities: { readonly drop: string[] };
  readonly seccompProfile: { readonly type: string };
}

function checkRunAs(runAs: RunAs): void {
  for (const [name, id] of Object.entries({ uid: runAs.uid, gid: runAs.gid, fsGroup: runAs.fsGroup })) {
    if (id !== undefined && (!Number.isInteger(id) || id <= 0)) {
      throw new Error(`pod security: ${name} must be a positive integer (root is not allowed), got ${id}`);
    }
  }
}

/** Pod-level security context for the restricted profile. */
export function restrictedPodSecurityContext(runAs: RunAs): PodSecurityContext {
  checkRunAs(runAs);
  const gid = runAs.gid ?? runAs.uid;
  return {
    runAsNonRoot: true,
    runAsUser: String(runAs.uid),
    runAsGroup: String(gid),
    fsGroup: String(runAs.fsGroup ?? gid),
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Container-level security context for the restricted profile. `readOnlyRootFilesystem` is on by
 * default: every process this library runs writes only to mounted volumes.
 */
export function restrictedContainerSecurityContext(runAs: RunAs, readOnlyRootFilesystem = true): ContainerSecurityContext {
  checkRunAs(runAs);
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem,
    runAsNonRoot: true,
    runAsUser: String(runAs.uid),
    runAsGroup: String(runAs.gid ?? runAs.uid),
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Pods do not get a service-account token unless the workload calls the Kubernetes API; none of the
 * Redis, Sentinel or HAProxy processes do.
 */
export const AUTOMOUNT_SERVICE_ACCOUNT_TOKEN = false;
