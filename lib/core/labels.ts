/** Value of app.kubernetes.io/managed-by on everything this library creates. */
export const MANAGED_BY = 'redis-topologies';
/** Prefix of this library's own annotations and labels. */
export const LABEL_DOMAIN = 'redis-topologies.io';

export interface WorkloadIdentity {
  /** app.kubernetes.io/name: the application, e.g. `redis`, `redis-sentinel`, `haproxy`. */
  readonly name: string;
  /** app.kubernetes.io/instance: the topology's name, unique in its namespace. */
  readonly instance: string;
  /** app.kubernetes.io/component: the role inside the topology, e.g. `data`, `sentinel`, `portal`. */
  readonly component: string;
  /** app.kubernetes.io/part-of: the topology kind, e.g. `sentinel-redis`. */
  readonly partOf: string;
}

/** The recommended labels, put on every object and pod. */
export function standardLabels(id: WorkloadIdentity): Record<string, string> {
  return {
    'app.kubernetes.io/component': id.component,
    'app.kubernetes.io/instance': id.instance,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/name': id.name,
    'app.kubernetes.io/part-of': id.partOf,
  };
}

/**
 * The subset used in selectors. Selectors of StatefulSets and Deployments are immutable, so they hold
 * only labels that never change for the life of the workload (no versions, no managed-by).
 */
export function selectorLabels(id: WorkloadIdentity): Record<string, string> {
  return {
    'app.kubernetes.io/component': id.component,
    'app.kubernetes.io/instance': id.instance,
    'app.kubernetes.io/name': id.name,
  };
}

/** Selects every pod of one topology instance, whatever its component (for network policies). */
export function topologySelector(instance: string, partOf: string): Record<string, string> {
  return {
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/part-of': partOf,
  };
}
