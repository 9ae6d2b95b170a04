import { DNS_NAME_ALLOWED, isDnsName, validateLabels, validateTolerations } from './rules';
import { PropsValidator } from './validation';

/** Hard (DoNotSchedule / required) or soft (ScheduleAnyway / preferred) spreading. */
export class Spread {
  /** Pods are not scheduled where the rule would be broken. */
  public static readonly REQUIRED = new Spread(true);
  /** The scheduler tries to spread, but schedules anyway. */
  public static readonly PREFERRED = new Spread(false);
  private constructor(public readonly required: boolean) {}

  /** Makes the class nominal: an object literal with the same fields is not a Spread. */
  private readonly optionClass = 'Spread';

  public toString(): string {
    return `${this.optionClass}.${this.required ? 'REQUIRED' : 'PREFERRED'}`;
  }
}

/** The factories that make a Spread, for validation messages. */
export const SPREAD_FACTORIES = 'Spread.REQUIRED, Spread.PREFERRED';

/** A toleration for dedicated node pools (taints). */
export interface Toleration {
  readonly key: string;
  /** @default 'Equal' when a value is given, else 'Exists' */
  readonly operator?: string;
  readonly value?: string;
  /** NoSchedule, PreferNoSchedule or NoExecute. @default all effects */
  readonly effect?: string;
}

/** Where a workload's pods go. */
export interface PlacementOptions {
  /** Spread over zones (topology.kubernetes.io/zone). */
  readonly zoneSpread: Spread;
  /** Spread over nodes (pod anti-affinity on kubernetes.io/hostname). */
  readonly nodeSpread: Spread;
  /** Run only on nodes with these labels (a dedicated pool). @default any node */
  readonly nodeSelector?: Record<string, string>;
  /** Tolerate these taints. @default none */
  readonly tolerations?: Toleration[];
}

/** The scheduling fields of a pod spec: zone spread constraint, node anti-affinity, pool selection. */
export function placement(selector: Record<string, string>, options: PlacementOptions) {
  const labelSelector = [{ matchLabels: { ...selector } }];
  const term = { labelSelector, topologyKey: 'kubernetes.io/hostname' };
  return {
    topologySpreadConstraint: [{
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: options.zoneSpread.required ? 'DoNotSchedule' : 'ScheduleAnyway',
      labelSelector,
    }],
    affinity: {
      podAntiAffinity: options.nodeSpread.required
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
    },
    nodeSelector: options.nodeSelector ? { ...options.nodeSelector } : undefined,
    toleration: podTolerations(options.tolerations),
  };
}

/**
 * A pod spec's affinity that schedules it on the node of StatefulSet pod `podName` only (required
 * pod affinity on kubernetes.io/hostname): a pod that mounts that pod's ReadWriteOnce claim.
 */
export function besidePod(podName: string) {
  return {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [{
        labelSelector: [{ matchLabels: { 'statefulset.kubernetes.io/pod-name': podName } }],
        topologyKey: 'kubernetes.io/hostname',
      }],
    },
  };
}

/** A pod spec's `toleration` blocks (operator Equal with a value, else Exists). */
export function podTolerations(tolerations: Toleration[] | undefined) {
  return tolerations?.map((t) => ({
    key: t.key,
    operator: t.operator ?? (t.value !== undefined ? 'Equal' : 'Exists'),
    value: t.value,
    effect: t.effect,
  }));
}

/**
 * A container lifecycle with a preStop hook running `command`. The kubelet runs it when the pod is
 * deleted for any reason (rolling update, drain, eviction, scale-in), before SIGTERM, and counts it
 * against terminationGracePeriodSeconds; a crash or a kill -9 runs no hook.
 */
export function preStopHook(command: string[]) {
  return { preStop: [{ exec: { command } }] };
}

/** An exec probe running `command`. */
export function execProbe(command: string[], timing: { periodSeconds: number; timeoutSeconds: number; failureThreshold: number; initialDelaySeconds?: number }) {
  return { exec: { command }, ...timing };
}

/** An env var from the pod's own metadata (fieldRef). */
export function fieldEnv(name: string, fieldPath: string) {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/** Where a topology's pods run: the placement props every topology shares. */
export interface WorkloadPlacementProps {
  /** Spread over zones (topology.kubernetes.io/zone). @default Spread.PREFERRED */
  readonly zoneSpread?: Spread;
  /** Spread over nodes (pod anti-affinity). @default Spread.REQUIRED with high availability, Spread.PREFERRED in development */
  readonly nodeSpread?: Spread;
  /** Dedicated node pool labels. @default any node */
  readonly nodeSelector?: Record<string, string>;
  /** Taints to tolerate. @default none */
  readonly tolerations?: Toleration[];
  /** Cluster DNS domain. @default 'cluster.local' */
  readonly clusterDomain?: string;
}

/** The placement props every topology shares: spreads, node selector, tolerations, cluster domain. */
export function validatePlacement(v: PropsValidator, props: WorkloadPlacementProps): void {
  v.option('zoneSpread', props.zoneSpread, Spread, SPREAD_FACTORIES);
  v.option('nodeSpread', props.nodeSpread, Spread, SPREAD_FACTORIES);
  validateLabels(v, 'nodeSelector', props.nodeSelector);
  validateTolerations(v, 'tolerations', props.tolerations);
  if (v.type('clusterDomain', props.clusterDomain, 'string', DNS_NAME_ALLOWED)) {
    v.check('clusterDomain', props.clusterDomain, (d) => isDnsName(d), DNS_NAME_ALLOWED);
  }
}
