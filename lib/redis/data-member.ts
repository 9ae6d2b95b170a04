import { PATHS } from './paths';
import { execProbe, fieldEnv, preStopHook } from '../core/pod-template';
import { restrictedContainerSecurityContext, RunAs } from '../core/pod-security';

/** Port of the redis_exporter sidecar. */
export const METRICS_PORT = 9121;
/** The redis_exporter image when the user names none. */
export const DEFAULT_METRICS_IMAGE = 'oliver006/redis_exporter:v1.67.0';

/** The volumes behind PATHS that every Redis pod of a topology mounts. */
export interface RedisPodVolumeSources {
  /** The ConfigMaps with the rendered config files and scripts. */
  readonly configMapName: string;
  readonly scriptsMapName: string;
  /** The auth Secret. */
  readonly authSecretName: string;
  /** Its key with the topology's password, mounted as `password` (the scripts read PATHS.auth/password). */
  readonly passwordKey: string;
  /** ACL users: their keys `acl-<user>` are mounted as they are. */
  readonly aclUserNames: readonly string[];
  /** The kubernetes.io/tls Secret, when TLS inside the topology is on. */
  readonly tlsSecretName?: string;
}

/** Pod volumes: config and scripts (read-only), auth, the in-memory run dir, scratch, TLS when on. */
export function redisPodVolumes(s: RedisPodVolumeSources) {
  return [
    { name: 'config', configMap: { name: s.configMapName, defaultMode: '0444' } },
    { name: 'scripts', configMap: { name: s.scriptsMapName, defaultMode: '0555' } },
    { name: 'auth', secret: { secretName: s.authSecretName, defaultMode: '0440', items: authItems(s.passwordKey, s.aclUserNames) } },
    // The runtime config holds the password: memory only, never on a node's disk.
    { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ...(s.tlsSecretName !== undefined ? [{ name: 'tls', secret: { secretName: s.tlsSecretName, defaultMode: '0440' } }] : []),
  ];
}

/**
 * The auth Secret's keys as the scripts read them: the password as `password` whatever its key in
 * the Secret (RedisAuth.fromExistingSecret may name another), each ACL user's as `acl-<user>`.
 */
export function authItems(passwordKey: string, aclUserNames: readonly string[] = []) {
  return [{ key: passwordKey, path: 'password' }, ...aclUserNames.map((u) => ({ key: `acl-${u}`, path: `acl-${u}` }))];
}

/** The mounts of {@link redisPodVolumes} at PATHS. */
export function redisPodMounts(tls: boolean) {
  return [
    { name: 'config', mountPath: PATHS.config, readOnly: true },
    { name: 'scripts', mountPath: PATHS.scripts, readOnly: true },
    { name: 'auth', mountPath: PATHS.auth, readOnly: true },
    { name: 'run', mountPath: PATHS.run },
    { name: 'tmp', mountPath: PATHS.tmp },
    ...(tls ? [{ name: 'tls', mountPath: PATHS.tls, readOnly: true }] : []),
  ];
}

/** The environment of every Redis container: its pod name (scripts derive ordinal and DNS name from it) and HOME. */
export function redisPodEnv() {
  return [fieldEnv('POD_NAME', 'metadata.name'), { name: 'HOME', value: PATHS.tmp }];
}

/** A data container of a Redis topology: the scripts' entrypoint, probes and preStop hook, restricted. */
export interface RedisDataContainerOptions {
  readonly image: string;
  readonly port: number;
  readonly memoryLimit: string;
  readonly cpuRequest: string;
  readonly cpuLimit?: string;
  readonly tls: boolean;
  readonly runAs: RunAs;
  /** Scripts (in PATHS.scripts) run as entrypoint, probe (`<probe> startup|liveness|readiness`) and preStop hook. */
  readonly entrypoint: string;
  readonly probe: string;
  readonly preStop: string;
  /** Ports beyond `redis` (a cluster member's bus). @default none */
  readonly extraPorts?: ReadonlyArray<{ readonly name: string; readonly containerPort: number }>;
  /** Seconds a member may take to boot before the startup probe gives up (plus a minute). */
  readonly bootTimeoutSeconds: number;
}

/**
 * The `redis` container: memory request = limit (no overcommit of a memory store), the data volume
 * at PATHS.data, startup and liveness probes that pass while the server answers anything (a long
 * load or sync never gets it killed), readiness from the topology's probe script.
 */
export function redisDataContainer(o: RedisDataContainerOptions) {
  const probe = (kind: string) => ['sh', `${PATHS.scripts}/${o.probe}`, kind];
  return {
    name: 'redis',
    image: o.image,
    command: ['sh', `${PATHS.scripts}/${o.entrypoint}`],
    env: redisPodEnv(),
    port: [{ name: 'redis', containerPort: o.port }, ...(o.extraPorts ?? []).map((p) => ({ ...p }))],
    resources: {
      requests: { memory: o.memoryLimit, cpu: o.cpuRequest },
      limits: { memory: o.memoryLimit, ...(o.cpuLimit ? { cpu: o.cpuLimit } : {}) },
    },
    volumeMount: [...redisPodMounts(o.tls), { name: 'data', mountPath: PATHS.data }],
    securityContext: restrictedContainerSecurityContext(o.runAs),
    lifecycle: preStopHook(['sh', `${PATHS.scripts}/${o.preStop}`]),
    startupProbe: execProbe(probe('startup'), { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: Math.ceil(o.bootTimeoutSeconds / 5) + 12 }),
    livenessProbe: execProbe(probe('liveness'), { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 }),
    readinessProbe: execProbe(probe('readiness'), { periodSeconds: 2, timeoutSeconds: 4, failureThreshold: 2 }),
  };
}

/** The redis_exporter sidecar on METRICS_PORT, reading the local server with the topology's password. */
export function metricsSidecar(o: { readonly image?: string; readonly redisPort: number; readonly tls: boolean; readonly authSecretName: string; readonly passwordKey: string }) {
  return {
    name: 'metrics',
    image: o.image ?? DEFAULT_METRICS_IMAGE,
    env: [
      { name: 'REDIS_ADDR', value: `${o.tls ? 'rediss' : 'redis'}://127.0.0.1:${o.redisPort}` },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: o.authSecretName, key: o.passwordKey } } },
      ...(o.tls ? [{ name: 'REDIS_EXPORTER_TLS_CA_CERT_FILE', value: `${PATHS.tls}/ca.crt` }] : []),
    ],
    port: [{ name: 'metrics', containerPort: METRICS_PORT }],
    resources: { requests: { memory: '32Mi', cpu: '20m' }, limits: { memory: '64Mi' } },
    securityContext: restrictedContainerSecurityContext({ uid: 59000 }),
    volumeMount: o.tls ? [{ name: 'tls', mountPath: PATHS.tls, readOnly: true }] : [],
  };
}
