/**
 * Paths inside the Redis containers of every topology (data members, sentinels, cluster members).
 * The pod templates mount exactly these; the rendered scripts and configs name them; the live tests
 * boot the plan's own mounts, so a config behind a wrong path fails there.
 */
export const PATHS = {
  /** ConfigMap: redis.conf, acl-rules and the topology's other config files. */
  config: '/etc/redis-topologies/config',
  /** ConfigMap: the entrypoint and probe scripts. */
  scripts: '/etc/redis-topologies/scripts',
  /** Secret: `password` and `acl-<user>`. */
  auth: '/etc/redis-topologies/auth',
  /** Secret (optional): tls.crt, tls.key, ca.crt. */
  tls: '/etc/redis-topologies/tls',
  /** emptyDir (memory): the runtime config written at boot, which holds the password. */
  run: '/run/redis-topologies',
  /** Persistent volume or emptyDir: RDB / AOF files (and a cluster member's nodes.conf). */
  data: '/data',
  /** Sentinels only, a claim or disk-backed emptyDir: the last view of the master group ("<epoch> <host>"), no secret. */
  state: '/var/lib/redis-topologies',
  /** emptyDir: scratch. */
  tmp: '/tmp',
} as const;

/** The shell names of PATHS every rendered common.sh defines. */
export const PATH_SHELL_CONSTANTS: Readonly<Record<string, string>> = Object.freeze({
  CONFIG_DIR: PATHS.config,
  SCRIPTS_DIR: PATHS.scripts,
  AUTH_DIR: PATHS.auth,
  TLS_DIR: PATHS.tls,
  RUN_DIR: PATHS.run,
  DATA_DIR: PATHS.data,
});
