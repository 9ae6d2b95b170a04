import { HARDENING_DIRECTIVES, renderMemoryAndPersistence, renderServerDirectives, REPLICATION_DIRECTIVES } from '../redis/redis-conf';
import { SentinelRedisModel } from './model';

/**
 * The data members' base redis.conf (ConfigMap). Holds no secret and nothing per pod: the
 * entrypoint writes a runtime file that includes this one and adds the password, the pod's
 * announced hostname and, for replicas, `replicaof`.
 */
export function renderRedisConf(m: SentinelRedisModel): string {
  const lines: string[] = [
    `# redis.conf for ${m.namespace}/${m.name}, rendered by redis-topologies`,
    ...renderServerDirectives(m),
    'cluster-enabled no',
    '',
    ...renderMemoryAndPersistence(m),
  ];
  lines.push('', ...REPLICATION_DIRECTIVES);
  if (m.minReplicasToWrite > 0) {
    lines.push(`min-replicas-to-write ${m.minReplicasToWrite}`, `min-replicas-max-lag ${m.minReplicasMaxLagSeconds}`);
  }
  lines.push('', ...HARDENING_DIRECTIVES, '');
  return lines.join('\n');
}
