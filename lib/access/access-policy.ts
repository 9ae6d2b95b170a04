import { Construct } from 'constructs';
import { NetworkPolicyV1, NetworkPolicyV1Spec, NetworkPolicyV1SpecIngressFrom } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { childName, isDnsLabel, isLabelKey, isLabelValue, toDnsLabel } from '../core/names';
import { PropsValidator } from '../core/validation';
import { cidrContains, isPrivateCidr, parseIpv4Cidr, RFC1918_RANGES } from './cidr';
import { kubernetesObject } from '../core/registry';

/** Label that names a namespace, set by Kubernetes itself on every namespace (>= 1.21). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The default prefix of the access label convention. Elastisys uses `elastisys.io` (seed 001). */
export const DEFAULT_ACCESS_LABEL_PREFIX = 'redis-topologies.io';

/** The label key that grants a pod access to a topology: `<prefix>/redis-<name>-access`, value `allow`. */
export function accessLabelKey(prefix: string, topologyName: string): string {
  return `${prefix}/redis-${topologyName}-access`;
}

/** Who may connect to a topology. */
export class AccessClient {
  /**
   * Pods matching `podLabels` in the topology's own namespace, or, with `namespaceLabels`, in every
   * namespace matching those labels.
   */
  public static pods(podLabels: Record<string, string>, options: { namespaceLabels?: Record<string, string> } = {}): AccessClient {
    return new AccessClient('pods', { podSelector: { matchLabels: { ...podLabels } }, ...(options.namespaceLabels ? { namespaceSelector: { matchLabels: { ...options.namespaceLabels } } } : {}) },
      { podLabels, namespaceLabels: options.namespaceLabels });
  }

  /** Pods in the namespace called `namespace`, optionally only those matching `podLabels`. */
  public static namespace(namespace: string, podLabels?: Record<string, string>): AccessClient {
    return new AccessClient('namespace', {
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
      ...(podLabels ? { podSelector: { matchLabels: { ...podLabels } } } : {}),
    }, { namespace, podLabels });
  }

  /**
   * Addresses in a private CIDR (RFC 1918 only: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), with
   * optional exceptions inside it. A public CIDR is rejected.
   */
  public static ipBlock(cidr: string, except?: string[]): AccessClient {
    return new AccessClient('ipBlock', { ipBlock: { cidr, except } }, { cidr, except });
  }

  private constructor(
    private readonly kind: 'pods' | 'namespace' | 'ipBlock',
    /** @internal the NetworkPolicy peer */
    public readonly _peer: NetworkPolicyV1SpecIngressFrom,
    private readonly raw: { podLabels?: Record<string, string>; namespaceLabels?: Record<string, string>; namespace?: string; cidr?: string; except?: string[] },
  ) {}

  /** @internal */
  public _validate(v: PropsValidator, prop: string): void {
    const labelsOk = (labels: Record<string, string>) =>
      Object.entries(labels).every(([k, val]) => isLabelKey(k) && isLabelValue(val));
    v.check(`${prop}.podLabels`, this.raw.podLabels, labelsOk, 'valid label keys and values');
    v.check(`${prop}.namespaceLabels`, this.raw.namespaceLabels, labelsOk, 'valid label keys and values');
    if (this.kind === 'pods') {
      v.check(`${prop}.podLabels`, this.raw.podLabels, (l) => Object.keys(l).length > 0,
        'at least one label (an empty selector would admit every pod; use AccessClient.namespace for a whole namespace)');
    }
    v.check(`${prop}.namespace`, this.raw.namespace, (n) => isDnsLabel(n), 'a namespace name (DNS-1123 label)');
    if (this.kind === 'ipBlock') {
      const allowed = `an IPv4 CIDR inside RFC 1918 (${RFC1918_RANGES.join(', ')})`;
      const cidrOk = v.check(`${prop}.cidr`, this.raw.cidr, isPrivateCidr, allowed);
      for (const ex of this.raw.except ?? []) {
        v.check(`${prop}.except`, ex, (e) => cidrOk && isPrivateCidr(e) && cidrContains(parseIpv4Cidr(this.raw.cidr!)!, parseIpv4Cidr(e)!),
          `an IPv4 CIDR inside ${this.raw.cidr}`);
      }
    }
  }
}

/** Egress a topology needs beyond DNS and its own peers (for example, object storage for backups). */
export class AccessEgress {
  /** To a CIDR on the given TCP ports. Unlike client ipBlocks, any CIDR is allowed here. */
  public static toCidr(cidr: string, ports: number[]): AccessEgress {
    return new AccessEgress({ ipBlock: { cidr } }, ports, cidr);
  }

  /** To pods in a namespace (optionally matching labels) on the given TCP ports. */
  public static toNamespace(namespace: string, ports: number[], podLabels?: Record<string, string>): AccessEgress {
    return new AccessEgress({
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
      ...(podLabels ? { podSelector: { matchLabels: { ...podLabels } } } : {}),
    }, ports);
  }

  private constructor(
    /** @internal */ public readonly _peer: NetworkPolicyV1SpecIngressFrom,
    /** TCP ports. */ public readonly ports: number[],
    private readonly cidr?: string,
  ) {}

  /** @internal */
  public _validate(v: PropsValidator, prop: string): void {
    v.check(`${prop}.cidr`, this.cidr, (c) => parseIpv4Cidr(c) !== undefined, 'an IPv4 CIDR such as 10.0.0.0/16');
    v.check(`${prop}.ports`, this.ports, (p) => p.length > 0 && p.every(isPort), 'a non-empty list of ports 1-65535');
  }
}

export interface AccessLabelOptions {
  /** Label prefix. @default 'redis-topologies.io' */
  readonly prefix?: string;
  /**
   * Whether labelled pods in any namespace are admitted (true) or only those in the topology's own
   * namespace (false).
   * @default true
   */
  readonly anyNamespace?: boolean;
}

export interface MetricsAccessOptions {
  /** Namespace of the metrics scraper (Prometheus). @default 'monitoring' */
  readonly namespace?: string;
  /** Scraper pods in that namespace. @default every pod of the namespace */
  readonly podLabels?: Record<string, string>;
}

/** The pods a policy protects and the ports their clients and peers use. */
export interface AccessTarget {
  /** Namespace of the topology's pods. */
  readonly namespace: string;
  /** The topology's name: used in the access label and in policy names. */
  readonly name: string;
  /** Selects every pod of the topology. */
  readonly podSelector: Record<string, string>;
  /** Ports clients connect to. */
  readonly clientPorts: number[];
}

export interface AccessPolicyProps extends AccessTarget {
  /** Ports the topology's pods use between themselves (replication, sentinel, cluster bus). */
  readonly peerPorts: number[];
  /** Named clients. @default none besides the label convention */
  readonly clients?: AccessClient[];
  /** The label convention. `false` turns it off. @default on, prefix 'redis-topologies.io', any namespace */
  readonly accessLabel?: AccessLabelOptions | false;
  /** Ports that expose metrics. @default none (no metrics policy) */
  readonly metricsPorts?: number[];
  /** Who scrapes metrics. @default the 'monitoring' namespace */
  readonly metrics?: MetricsAccessOptions;
  /** Extra egress. @default none: DNS and the topology's own peers only */
  readonly egress?: AccessEgress[];
}

function isPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

function tcp(ports: number[]): { port: string; protocol: string }[] {
  return ports.map((p) => ({ port: String(p), protocol: 'TCP' }));
}

/**
 * Deny-by-default NetworkPolicies for one topology: a policy that selects all of its pods and
 * allows nothing, then one additive policy per allowed flow (clients, labelled pods, peers, DNS,
 * metrics, extra egress). Each flow is its own object, so a plan shows exactly what changes.
 */
export class AccessPolicy extends Construct {
  /** The label key that grants access under the convention, or undefined when it is off. */
  public readonly accessLabelKey?: string;
  private readonly target: AccessTarget;

  constructor(scope: Construct, id: string, props: AccessPolicyProps) {
    super(scope, id);
    const v = new PropsValidator(this);
    v.check('namespace', props.namespace, (n) => isDnsLabel(n), 'a namespace name (DNS-1123 label)');
    v.check('name', props.name, (n) => isDnsLabel(n), 'a DNS-1123 label');
    v.check('clientPorts', props.clientPorts, (p) => p.length > 0 && p.every(isPort), 'a non-empty list of ports 1-65535');
    v.check('peerPorts', props.peerPorts, (p) => p.every(isPort), 'ports 1-65535');
    v.check('metricsPorts', props.metricsPorts, (p) => p.every(isPort), 'ports 1-65535');
    v.check('podSelector', props.podSelector, (s) => Object.keys(s).length > 0, 'at least one label (an empty selector selects every pod of the namespace)');
    (props.clients ?? []).forEach((c, i) => c._validate(v, `clients[${i}]`));
    (props.egress ?? []).forEach((e, i) => e._validate(v, `egress[${i}]`));
    const label = props.accessLabel === false ? undefined : props.accessLabel ?? {};
    const prefix = label?.prefix ?? DEFAULT_ACCESS_LABEL_PREFIX;
    if (label) {
      v.check('accessLabel.prefix', prefix, (p) => isLabelKey(accessLabelKey(p, props.name)),
        'a DNS-1123 subdomain such that "<prefix>/redis-<name>-access" is a valid label key (name part at most 63 characters)');
    }
    v.throwIfInvalid();

    this.target = props;
    const selector = { matchLabels: { ...props.podSelector } };

    this.policy('DefaultDeny', 'default-deny', { podSelector: selector, policyTypes: ['Ingress', 'Egress'] });

    const clientPeers: NetworkPolicyV1SpecIngressFrom[] = (props.clients ?? []).map((c) => c._peer);
    if (label) {
      this.accessLabelKey = accessLabelKey(prefix, props.name);
      clientPeers.push({
        podSelector: { matchLabels: { [this.accessLabelKey]: 'allow' } },
        ...(label.anyNamespace === false ? {} : { namespaceSelector: {} }),
      });
    }
    if (clientPeers.length > 0) {
      this.policy('AllowClients', 'allow-clients', {
        podSelector: selector,
        policyTypes: ['Ingress'],
        ingress: [{ from: clientPeers, ports: tcp(props.clientPorts) }],
      });
    }

    if (props.peerPorts.length > 0) {
      this.policy('AllowPeers', 'allow-peers', {
        podSelector: selector,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: selector }], ports: tcp(props.peerPorts) }],
        egress: [{ to: [{ podSelector: selector }], ports: tcp(props.peerPorts) }],
      });
    }

    // DNS to any destination on port 53: kube-dns, CoreDNS and node-local caches (169.254.20.10) alike.
    this.policy('AllowDns', 'allow-dns', {
      podSelector: selector,
      policyTypes: ['Egress'],
      egress: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }] }],
    });

    if (props.metricsPorts && props.metricsPorts.length > 0) {
      const ns = props.metrics?.namespace ?? 'monitoring';
      this.policy('AllowMetrics', 'allow-metrics', {
        podSelector: selector,
        policyTypes: ['Ingress'],
        ingress: [{
          from: [{
            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } },
            ...(props.metrics?.podLabels ? { podSelector: { matchLabels: { ...props.metrics.podLabels } } } : {}),
          }],
          ports: tcp(props.metricsPorts),
        }],
      });
    }

    if (props.egress && props.egress.length > 0) {
      this.policy('AllowEgress', 'allow-egress', {
        podSelector: selector,
        policyTypes: ['Egress'],
        egress: props.egress.map((e) => ({ to: [e._peer], ports: tcp(e.ports) })),
      });
    }
  }

  /**
   * Admits more clients after construction, as its own NetworkPolicy `<name>-allow-<suffix>`.
   * To grant access from another stack, use {@link AccessGrant} there.
   */
  public allow(id: string, clients: AccessClient[], ports?: number[]): AccessGrant {
    return new AccessGrant(this, id, { target: this.target, clients, ports });
  }

  private policy(id: string, suffix: string, spec: NetworkPolicyV1Spec): NetworkPolicyV1 {
    return new NetworkPolicyV1(this, id, kubernetesObject(this, 'NetworkPolicy', {
      metadata: {
        name: childName(this.target.name, suffix),
        namespace: this.target.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'redis-topologies', 'app.kubernetes.io/instance': this.target.name },
      },
      spec,
    }));
  }
}

export interface AccessGrantProps {
  /** The topology to reach (any topology's `accessTarget`). */
  readonly target: AccessTarget;
  /** Who is admitted. */
  readonly clients: AccessClient[];
  /** Which of the target's ports. @default all client ports of the target */
  readonly ports?: number[];
}

/**
 * One additional ingress NetworkPolicy into a topology's namespace. Use it from an application
 * stack to admit that application, with the target imported from attributes.
 */
export class AccessGrant extends Construct {
  public readonly resource: NetworkPolicyV1;

  constructor(scope: Construct, id: string, props: AccessGrantProps) {
    super(scope, id);
    const v = new PropsValidator(this);
    v.check('clients', props.clients, (c) => c.length > 0, 'at least one AccessClient');
    props.clients.forEach((c, i) => c._validate(v, `clients[${i}]`));
    v.check('ports', props.ports, (p) => p.length > 0 && p.every((x) => props.target.clientPorts.includes(x)),
      `a non-empty subset of the target's client ports (${props.target.clientPorts.join(', ')})`);
    v.throwIfInvalid();
    this.resource = new NetworkPolicyV1(this, 'Resource', kubernetesObject(this, 'NetworkPolicy', {
      metadata: {
        name: childName(props.target.name, `allow-${toDnsLabel(this.node.id, 40)}`),
        namespace: props.target.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'redis-topologies', 'app.kubernetes.io/instance': props.target.name },
      },
      spec: {
        podSelector: { matchLabels: { ...props.target.podSelector } },
        policyTypes: ['Ingress'],
        ingress: [{ from: props.clients.map((c) => c._peer), ports: tcp(props.ports ?? props.target.clientPorts) }],
      },
    }));
  }
}

/** Who may connect to a topology: the client props every topology shares. */
export interface ClientAccessProps {
  /** Named clients admitted by the network policy, besides pods carrying the access label. @default none */
  readonly clients?: AccessClient[];
  /** The access label convention (`<prefix>/redis-<name>-access: allow`); false turns it off. @default on, prefix 'redis-topologies.io' */
  readonly accessLabel?: AccessLabelOptions | false;
}
