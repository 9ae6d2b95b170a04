import { PATHS } from '../redis/paths';
import { HARDENING_DIRECTIVES, renderMemoryAndPersistence, renderServerDirectives, REPLICATION_DIRECTIVES } from '../redis/redis-conf';
import { ShardedRedisClusterModel } from './model';

/** Where a member keeps its cluster state (node id, peers, epochs): on the data volume. */
export const NODES_CONF = `${PATHS.data}/nodes.conf`;

/**
 * The members' base redis.conf (ConfigMap). Holds no secret and nothing per pod: the entrypoint
 * writes a runtime file that includes this one and adds the password, the announced hostname and
 * the pod's address.
 */
export function renderClusterRedisConf(m: ShardedRedisClusterModel): string {
  const cluster = m.mode === 'cluster' ? [
    'cluster-enabled yes',
    `cluster-config-file ${NODES_CONF}`,
    `cluster-port ${m.busPort}`,
    `cluster-node-timeout ${m.clusterNodeTimeoutMs}`,
    // MOVED, ASK and CLUSTER SLOTS/SHARDS name members by their stable DNS names: a client or proxy
    // that follows them survives pods re-created at new addresses. The bus still uses addresses.
    'cluster-preferred-endpoint-type hostname',
    // A replica stays in its shard: each shard is a StatefulSet whose members never share a node or
    // zone, so placement holds whichever member is primary. Migration would move replicas across.
    'cluster-allow-replica-migration no',
    'cluster-require-full-coverage yes',
    ...(m.tls ? ['tls-cluster yes'] : []),
  ] : [
    // Standalone shards behind twemproxy: each owns the keys the proxy's hash ring gives it.
    'cluster-enabled no',
  ];
  return [
    `# redis.conf for the ${m.mode === 'cluster' ? 'cluster members' : 'standalone shards'} of ${m.namespace}/${m.name}, rendered by redis-topologies`,
    ...renderServerDirectives(m),
    '',
    `# ${m.mode === 'cluster' ? 'cluster' : 'no cluster: shards behind twemproxy'}`,
    ...cluster,
    '',
    ...renderMemoryAndPersistence(m),
    '',
    ...REPLICATION_DIRECTIVES,
    '',
    ...HARDENING_DIRECTIVES,
    '',
  ].join('\n');
}
