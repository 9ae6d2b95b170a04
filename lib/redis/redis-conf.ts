import { PATHS } from './paths';

/** What every topology's redis.conf derives from its props: memory, persistence, TLS. */
export interface RedisServerSettings {
  readonly redisPort: number;
  readonly tls: boolean;
  readonly maxmemoryBytes: number;
  readonly evictionPolicy: string;
  readonly timeoutSeconds: number;
  readonly persistence: 'aof' | 'rdb' | 'none';
  readonly rdbSavePoints: ReadonlyArray<{ readonly seconds: number; readonly changes: number }>;
}

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

/** Listening, process and directory lines every Redis server of ours starts with. */
export function renderServerDirectives(s: RedisServerSettings): string[] {
  return [
    'bind * -::*',
    'protected-mode no',
    ...(s.tls ? renderTlsDirectives(s.redisPort) : [`port ${s.redisPort}`]),
    'daemonize no',
    'logfile ""',
    `dir ${PATHS.data}`,
  ];
}

/** maxmemory (a share of the container limit), eviction, idle timeout and the persistence mode. */
export function renderMemoryAndPersistence(s: RedisServerSettings): string[] {
  const lines: string[] = [
    '# memory: maxmemory is a share of the container limit, the rest is headroom for fork and buffers',
    `maxmemory ${s.maxmemoryBytes}`,
    `maxmemory-policy ${s.evictionPolicy}`,
    `timeout ${s.timeoutSeconds}`,
    'tcp-keepalive 60',
    '',
    `# persistence: ${s.persistence}`,
  ];
  if (s.persistence === 'aof') {
    lines.push('appendonly yes', 'appendfsync everysec', 'save ""');
  } else if (s.persistence === 'rdb') {
    lines.push('appendonly no', `save "${s.rdbSavePoints.map((p) => `${p.seconds} ${p.changes}`).join(' ')}"`);
  } else {
    lines.push('appendonly no', 'save ""');
  }
  return lines;
}

/** Replication: read-only replicas that serve while syncing, diskless full syncs after a 1 s gathering delay. */
export const REPLICATION_DIRECTIVES = [
  '# replication',
  'replica-read-only yes',
  'replica-serve-stale-data yes',
  'repl-diskless-sync yes',
  'repl-diskless-sync-delay 1',
];

/** Commands no client of a managed Redis needs, closed at the server. */
export const HARDENING_DIRECTIVES = ['# hardening', 'enable-debug-command no', 'enable-module-command no', 'enable-protected-configs no'];

/** `<user> <rules>` per line; the entrypoint adds each user's password from the auth Secret. */
export function renderAclRules(m: { readonly aclUsers: ReadonlyArray<{ readonly name: string; readonly rules: string }> }): string {
  return m.aclUsers.map((u) => `${u.name} ${u.rules}\n`).join('');
}
