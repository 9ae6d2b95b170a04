import { PATHS, SentinelRedisModel } from './model';

/** TLS settings shared by redis.conf and sentinel.conf when TLS inside the topology is on. */
export function renderTlsDirectives(port: number): string[] {
  return [
    'port 0',
    `tls-port ${port}`,
    `tls-cert-file ${PATHS.tls}/tls.crt`,
    `tls-key-file ${PATHS.tls}/tls.key`,
    `tls-ca-cert-file ${PATHS.tls}/ca.crt`,
    'tls-auth-clients no',
    'tls-replication yes',
    'tls-protocols "TLSv1.2 TLSv1.3"',
  ];
}

/**
 * The data members' base redis.conf (ConfigMap). Holds no secret and nothing per pod: the
 * entrypoint writes a runtime file that includes this one and adds the password, the pod's
 * announced hostname and, for replicas, `replicaof`.
 */
export function renderRedisConf(m: SentinelRedisModel): string {
  const lines: string[] = [
    `# redis.conf for ${m.namespace}/${m.name}, rendered by redis-topologies`,
    'bind * -::*',
    'protected-mode no',
    ...(m.tls ? renderTlsDirectives(m.redisPort) : [`port ${m.redisPort}`]),
    'daemonize no',
    'logfile ""',
    `dir ${PATHS.data}`,
    'cluster-enabled no',
    '',
    '# memory: maxmemory is a share of the container limit, the rest is headroom for fork and buffers',
    `maxmemory ${m.maxmemoryBytes}`,
    `maxmemory-policy ${m.evictionPolicy}`,
    `timeout ${m.timeoutSeconds}`,
    'tcp-keepalive 60',
    '',
    `# persistence: ${m.persistence}`,
  ];
  if (m.persistence === 'aof') {
    lines.push('appendonly yes', 'appendfsync everysec', 'save ""');
  } else if (m.persistence === 'rdb') {
    lines.push('appendonly no', `save "${m.rdbSavePoints.map((p) => `${p.seconds} ${p.changes}`).join(' ')}"`);
  } else {
    lines.push('appendonly no', 'save ""');
  }
  lines.push(
    '',
    '# replication',
    'replica-read-only yes',
    'replica-serve-stale-data yes',
    'repl-diskless-sync yes',
    'repl-diskless-sync-delay 1',
  );
  if (m.minReplicasToWrite > 0) {
    lines.push(`min-replicas-to-write ${m.minReplicasToWrite}`, `min-replicas-max-lag ${m.minReplicasMaxLagSeconds}`);
  }
  lines.push('', '# hardening', 'enable-debug-command no', 'enable-module-command no', 'enable-protected-configs no', '');
  return lines.join('\n');
}

/** `<user> <rules>` per line; the entrypoint adds each user's password from the auth Secret. */
export function renderAclRules(m: SentinelRedisModel): string {
  return m.aclUsers.map((u) => `${u.name} ${u.rules}\n`).join('');
}
