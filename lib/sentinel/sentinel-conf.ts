import { PATHS } from '../redis/paths';
import { SentinelRedisModel } from './model';
import { renderTlsDirectives } from '../redis/redis-conf';

/**
 * Global part of sentinel.conf (ConfigMap). Sentinels resolve and announce hostnames, so a pod
 * that comes back with a new IP keeps its identity (bitnami/charts#5418, redis/redis#9103).
 * The entrypoint appends the `sentinel monitor` line for the current primary, the auth lines
 * and {@link renderSentinelMasterConf}.
 */
export function renderSentinelConf(m: SentinelRedisModel): string {
  return [
    `# sentinel.conf for ${m.namespace}/${m.name}, rendered by redis-topologies`,
    'bind * -::*',
    'protected-mode no',
    ...(m.tls ? renderTlsDirectives(m.sentinelPort) : [`port ${m.sentinelPort}`]),
    'daemonize no',
    'logfile ""',
    `dir ${PATHS.run}`,
    'sentinel resolve-hostnames yes',
    'sentinel announce-hostnames yes',
    'sentinel deny-scripts-reconfig yes',
    '',
  ].join('\n');
}

/** Per-master settings; they must follow the `sentinel monitor` line. */
export function renderSentinelMasterConf(m: SentinelRedisModel): string {
  return [
    `sentinel down-after-milliseconds ${m.masterName} ${m.downAfterMilliseconds}`,
    `sentinel failover-timeout ${m.masterName} ${m.failoverTimeoutMilliseconds}`,
    `sentinel parallel-syncs ${m.masterName} ${m.parallelSyncs}`,
    '',
  ].join('\n');
}
