import { Construct } from 'constructs';
import { NetworkPolicyV1, NetworkPolicyV1Spec, NetworkPolicyV1SpecIngressFrom } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { childName, isDnsLabel, isDnsSubdomain, toDnsLabel } from '../core/names';
import { validateLabels, validateNamespace, validateNamespaces } from '../core/rules';
import { isUnresolved, OptionClass, PropsValidator } from '../core/validation';
import { kubernetesObject } from '../core/registry';
import { cidrContains, isPrivateCidr, parseIpv4Cidr, RFC1918_RANGES } from './cidr';
import { copyLabels, isPort, tcp, validateOptions, validatePorts, validateSelector } from './access-rules';

/** Label that names a namespace, set by Kubernetes itself on every namespace (>= 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The default prefix of the access label convention. Elastisys uses `elastisys.io` (seed 001). */
export const DEFAULT_ACCESS_LABEL_PREFIX = 'redis-topologies.io';

/** Namespace of the cluster DNS pods unless `dns.namespace` says otherwise. */
export const DEFAULT_DNS_NAMESPACE = 'kube-system';

/**
 * Labels of the cluster DNS pods unless `dns.podLabels` says otherwise: what CoreDNS (and the older
 * kube-dns) carry on kubeadm, EKS, GKE and AKS clusters.
 */
export const DEFAULT_DNS_POD_LABELS: Readonly<Record<string, string>> = Object.freeze({ 'k8s-app': 'kube-dns' });

/** The label key that grants a pod access to a topology: `<prefix>/redis-<name>-access`, value `allow`. */
export function accessLabelKey(prefix: string, topologyName: string): string {
  return `${prefix}/redis-${topologyName}-access`;
}

const NAME_ALLOWED = 'a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)';
/** `redis-<name>-access` is the name part of a label key: at most 63 characters, so the name at most 50. */
const NAME_WITH_LABEL_ALLOWED = 'a DNS-1123 label of at most 50 characters (the access label key "<prefix>/redis-<name>-access" has at most 63 characters after the "/")';
const PREFIX_ALLOWED = 'a DNS-1123 subdomain such as redis-topologies.io or elastisys.io (the part of the access label key before the "/")';
const CLIENT_FACTORIES = 'AccessClient.pods(), AccessClient.namespace(), AccessClient.ipBlock()';
const EGRESS_FACTORIES = 'AccessEgress.toCidr(), AccessEgress.toNamespace()';
const DNS_CIDR_ALLOWED = 'an IPv4 CIDR inside RFC 1918 or the link-local range 169.254.0.0/16 (e.g. NodeLocal DNSCache\'s 169.254.20.10/32)';
const LINK_LOCAL = parseIpv4Cidr('169.254.0.0/16')!;

/** Options of {@link AccessClient.pods}. */
export interface AccessClientPodsOptions {
  /**
   * Admit matching pods in every namespace that carries these labels instead of the topology's own
   * namespace. Must hold at least one label.
   * @default the topology's own namespace only
   */
  readonly namespaceLabels?: Record<string, string>;
}

type ClientKind = 'pods' | 'namespace' | 'ipBlock';

interface ClientSpec {
  readonly podLabels?: Record<string, string>;
  readonly namespaceLabels?: Record<string, string>;
  readonly namespace?: string;
  readonly cidr?: string;
  readonly except?: string[];
  readonly options?: unknown;
}

/**
 * Who may connect to a topology. Made only by the static factories; a look-alike object is refused
 * when the props are validated.
 */
export class AccessClient {
  /**
   * Pods matching `podLabels` (at least one label) in the topology's own namespace, or, with
   * `namespaceLabels`, in every namespace matching those labels.
   */
  public static pods(podLabels: Record<string, string>, options: AccessClientPodsOptions = {}): AccessClient {
    return new AccessClient('pods', { podLabels, namespaceLabels: options?.namespaceLabels, options });
  }

  /**
   * Pods in the namespace called `namespace`, optionally only those matching `podLabels`. The
   * namespace may be a Terraform token (a variable, another resource's attribute).
   */
  public static namespace(namespace: string, podLabels?: Record<string, string>): AccessClient {
    return new AccessClient('namespace', { namespace, podLabels });
  }

  /**
   * Addresses in a private CIDR (RFC 1918 only: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), with
   * optional exceptions inside it. A public CIDR is rejected.
   */
  public static ipBlock(cidr: string, except?: string[]): AccessClient {
    return new AccessClient('ipBlock', { cidr, except });
  }

  private constructor(private readonly kind: ClientKind, private readonly spec: ClientSpec) {}

  /** @internal The namespace this client names (AccessClient.namespace), if any. */
  public get _namespace(): string | undefined {
    return this.kind === 'namespace' ? this.spec.namespace : undefined;
  }

  /** @internal The NetworkPolicy peer; call only on a validated client. */
  public _peer(): NetworkPolicyV1SpecIngressFrom {
    const s = this.spec;
    switch (this.kind) {
      case 'pods':
        return {
          podSelector: { matchLabels: copyLabels(s.podLabels!) },
          ...(s.namespaceLabels ? { namespaceSelector: { matchLabels: copyLabels(s.namespaceLabels) } } : {}),
        };
      case 'namespace':
        return {
          namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: s.namespace! } },
          ...(s.podLabels ? { podSelector: { matchLabels: copyLabels(s.podLabels) } } : {}),
        };
      case 'ipBlock':
        return { ipBlock: { cidr: s.cidr!, ...(s.except ? { except: [...s.except] } : {}) } };
    }
  }

  /** @internal */
  public _validate(v: PropsValidator, prop: string): void {
    const s = this.spec;
    switch (this.kind) {
      case 'pods':
        validateSelector(v, `${prop}.podLabels`, s.podLabels,
          'an empty selector would admit every pod; use AccessClient.namespace for a whole namespace', true);
        if (validateOptions(v, `${prop}.options`, s.options, ['namespaceLabels'], 'options { namespaceLabels? }')) {
          validateSelector(v, `${prop}.namespaceLabels`, s.namespaceLabels,
            'an empty namespace selector would admit every namespace');
        }
        return;
      case 'namespace':
        validateNamespace(v, `${prop}.namespace`, s.namespace, true);
        validateLabels(v, `${prop}.podLabels`, s.podLabels);
        return;
      case 'ipBlock': {
        const allowed = `an IPv4 CIDR inside RFC 1918 (${RFC1918_RANGES.join(', ')})`;
        const cidrOk = v.required(`${prop}.cidr`, s.cidr, 'string', allowed) && v.check(`${prop}.cidr`, s.cidr, isPrivateCidr, allowed);
        if (!v.type(`${prop}.except`, s.except, 'array', `a list of IPv4 CIDRs inside ${describeCidr(s.cidr)}`)) return;
        (s.except ?? []).forEach((ex, i) => {
          const within = `an IPv4 CIDR inside ${describeCidr(s.cidr)}`;
          if (!v.type(`${prop}.except[${i}]`, ex, 'string', within)) return;
          const outer = cidrOk && !isUnresolved(s.cidr) ? parseIpv4Cidr(s.cidr!) : undefined;
          v.check(`${prop}.except[${i}]`, ex, (e) => {
            const inner = parseIpv4Cidr(e);
            return inner !== undefined && (outer === undefined || cidrContains(outer, inner));
          }, within);
        });
        return;
      }
    }
  }

  /** How the client was made, e.g. `AccessClient.namespace("shop")`. */
  public toString(): string {
    const s = this.spec;
    const args = this.kind === 'pods' ? [s.podLabels, s.namespaceLabels ? { namespaceLabels: s.namespaceLabels } : undefined]
      : this.kind === 'namespace' ? [s.namespace, s.podLabels] : [s.cidr, s.except];
    return `AccessClient.${this.kind}(${args.filter((a) => a !== undefined).map((a) => JSON.stringify(a)).join(', ')})`;
  }
}

function describeCidr(cidr: unknown): string {
  return typeof cidr === 'string' && !isUnresolved(cidr) ? cidr : 'the block';
}

type EgressKind = 'cidr' | 'namespace';

/** Egress a topology needs beyond DNS and its own peers (for example, object storage for backups). */
export class AccessEgress {
  /** To a CIDR on the given TCP ports. Unlike client ipBlocks, any IPv4 CIDR is allowed here. */
  public static toCidr(cidr: string, ports: number[]): AccessEgress {
    return new AccessEgress('cidr', ports, { cidr });
  }

  /**
   * To pods in a namespace (optionally only those matching `podLabels`) on the given TCP ports. The
   * namespace may be a Terraform token.
   */
  public static toNamespace(namespace: string, ports: number[], podLabels?: Record<string, string>): AccessEgress {
    return new AccessEgress('namespace', ports, { namespace, podLabels });
  }

  private constructor(
    private readonly kind: EgressKind,
    /** TCP ports. */ public readonly ports: number[],
    private readonly target: { readonly cidr?: string; readonly namespace?: string; readonly podLabels?: Record<string, string> },
  ) {}

  /** @internal The NetworkPolicy peer; call only on a validated egress. */
  public _peer(): NetworkPolicyV1SpecIngressFrom {
    const t = this.target;
    if (this.kind === 'cidr') return { ipBlock: { cidr: t.cidr! } };
    return {
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: t.namespace! } },
      ...(t.podLabels ? { podSelector: { matchLabels: copyLabels(t.podLabels) } } : {}),
    };
  }

  /** @internal */
  public _validate(v: PropsValidator, prop: string): void {
    const t = this.target;
    if (this.kind === 'cidr') {
      const allowed = 'an IPv4 CIDR such as 10.0.0.0/16';
      if (v.required(`${prop}.cidr`, t.cidr, 'string', allowed)) v.check(`${prop}.cidr`, t.cidr, (c) => parseIpv4Cidr(c) !== undefined, allowed);
    } else {
      validateNamespace(v, `${prop}.namespace`, t.namespace, true);
      validateLabels(v, `${prop}.podLabels`, t.podLabels);
    }
    validatePorts(v, `${prop}.ports`, this.ports, { required: true, nonEmpty: true });
  }

  /** How the egress was made, e.g. `AccessEgress.toCidr("10.50.0.0/24", [443])`. */
  public toString(): string {
    const t = this.target;
    const args = this.kind === 'cidr' ? [t.cidr, this.ports] : [t.namespace, this.ports, t.podLabels];
    return `AccessEgress.${this.kind === 'cidr' ? 'toCidr' : 'toNamespace'}(${args.filter((a) => a !== undefined).map((a) => JSON.stringify(a)).join(', ')})`;
  }
}

/**
 * The access label convention: pods labelled `<prefix>/redis-<name>-access: allow` may connect on
 * the client ports. Which namespaces such pods may be in is limited: anyone who may label a pod in
 * an admitted namespace gets in.
 */
export interface AccessLabelOptions {
  /** Label prefix (a DNS subdomain). @default 'redis-topologies.io' */
  readonly prefix?: string;
  /**
   * More namespaces whose labelled pods are admitted, besides the topology's own namespace and the
   * namespaces of `clients` made with `AccessClient.namespace(...)`. Names may be Terraform tokens.
   * @default none
   */
  readonly namespaces?: string[];
  /**
   * Also admit labelled pods in every namespace carrying all of these namespace labels (at least
   * one label). Anyone who may label a namespace then decides who gets in.
   * @default none
   */
  readonly namespaceLabels?: Record<string, string>;
  /**
   * Admit labelled pods from every namespace of the cluster: anyone who can label a pod anywhere
   * gets in. Only for clusters where pod labels are trusted; cannot be combined with `namespaces`
   * or `namespaceLabels`.
   * @default false
   */
  readonly anyNamespace?: boolean;
}

const ACCESS_LABEL_KEYS = ['prefix', 'namespaces', 'namespaceLabels', 'anyNamespace'] as const;

/** Where the topology's pods resolve names. Egress on port 53 goes to these pods (and CIDRs) only. */
export interface DnsEgressOptions {
  /** Namespace of the cluster DNS pods (OpenShift: 'openshift-dns'). May be a Terraform token. @default 'kube-system' */
  readonly namespace?: string;
  /**
   * Labels of the cluster DNS pods, replacing the default (at least one label; OpenShift:
   * `{ 'dns.operator.openshift.io/daemonset-dns': 'default' }`).
   * @default { 'k8s-app': 'kube-dns' } (CoreDNS on kubeadm, EKS, GKE and AKS)
   */
  readonly podLabels?: Record<string, string>;
  /**
   * DNS servers that are not pods of that namespace, such as NodeLocal DNSCache on
   * `['169.254.20.10/32']`: each inside RFC 1918 or 169.254.0.0/16.
   * @default none
   */
  readonly cidrs?: string[];
}

const DNS_KEYS = ['namespace', 'podLabels', 'cidrs'] as const;

export interface MetricsAccessOptions {
  /** Namespace of the metrics scraper (Prometheus). May be a Terraform token. @default 'monitoring' */
  readonly namespace?: string;
  /** Scraper pods in that namespace. @default every pod of the namespace */
  readonly podLabels?: Record<string, string>;
}

/** The pods a policy protects and the ports their clients and peers use. */
export interface AccessTarget {
  /** Namespace of the topology's pods. May be a Terraform token. */
  readonly namespace: string;
  /** The topology's name: used in the access label and in policy names. */
  readonly name: string;
  /** Selects every pod of the topology (at least one label). */
  readonly podSelector: Record<string, string>;
  /** Ports clients connect to (at least one). */
  readonly clientPorts: number[];
}

export interface AccessPolicyProps extends AccessTarget {
  /** Ports the topology's pods use between themselves (replication, sentinel, cluster bus); may be empty. */
  readonly peerPorts: number[];
  /** Named clients. @default none besides the access label convention */
  readonly clients?: AccessClient[];
  /**
   * The access label convention; `false` turns it off.
   * @default on: prefix 'redis-topologies.io'; labelled pods admitted from the topology's own
   * namespace and the namespaces of `AccessClient.namespace(...)` clients only
   */
  readonly accessLabel?: AccessLabelOptions | false;
  /** Ports that expose metrics. @default none (no metrics policy) */
  readonly metricsPorts?: number[];
  /** Who scrapes metrics (used only with `metricsPorts`). @default every pod of the 'monitoring' namespace */
  readonly metrics?: MetricsAccessOptions;
  /** Where DNS queries may go (UDP and TCP 53). @default pods labelled k8s-app=kube-dns in kube-system */
  readonly dns?: DnsEgressOptions;
  /** Extra egress. @default none: DNS and the topology's own peers only */
  readonly egress?: AccessEgress[];
}

/**
 * The egress rule to the cluster DNS (UDP and TCP 53): to the DNS pods, and the DNS caches the user
 * lists, never port 53 anywhere (an open port 53 is a channel out of the cluster).
 */
export function dnsEgressRule(dns: DnsEgressOptions | undefined) {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: dns?.namespace ?? DEFAULT_DNS_NAMESPACE } },
        podSelector: { matchLabels: copyLabels(dns?.podLabels ?? DEFAULT_DNS_POD_LABELS) },
      },
      ...(dns?.cidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
    ],
    ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }],
  };
}

/** The access label options, checked and with their defaults. */
interface ResolvedAccessLabel {
  readonly prefix: string;
  readonly namespaces: readonly string[];
  readonly namespaceLabels?: Record<string, string>;
  readonly anyNamespace: boolean;
}

/** Checks an AccessTarget's four fields, each under `<prefix><field>`. */
function validateTarget(v: PropsValidator, prefix: string, t: Partial<AccessTarget>, nameAllowed: { max: number; allowed: string }): void {
  validateNamespace(v, `${prefix}namespace`, t.namespace, true);
  if (v.required(`${prefix}name`, t.name, 'string', nameAllowed.allowed)) {
    v.check(`${prefix}name`, t.name, (n) => isDnsLabel(n, nameAllowed.max), nameAllowed.allowed);
  }
  validateSelector(v, `${prefix}podSelector`, t.podSelector, 'an empty selector selects every pod of the namespace', true);
  validatePorts(v, `${prefix}clientPorts`, t.clientPorts, { required: true, nonEmpty: true });
}

/** Checks a list of option-class instances; returns the list when it is one. */
function validateList<T extends { _validate(v: PropsValidator, prop: string): void }>(
  v: PropsValidator, prop: string, value: unknown, cls: OptionClass<T>, factories: string, required = false,
): T[] {
  const allowed = `a list of values made by ${factories}`;
  if (required ? !v.required(prop, value, 'array', allowed) : !v.type(prop, value, 'array', allowed)) return [];
  if (value === undefined) return [];
  if (!v.known(prop, value, 'the policy lists each entry, so the list itself must be known at synth time')) return [];
  const list = value as unknown[];
  list.forEach((item, i) => {
    if (item === undefined || item === null) v.fail(`${prop}[${i}]`, item, `one of ${factories}`);
    else if (v.option(`${prop}[${i}]`, item as T, cls, factories)) (item as T)._validate(v, `${prop}[${i}]`);
  });
  return list as T[];
}

/**
 * Deny-by-default NetworkPolicies for one topology: a policy that selects all of its pods and
 * allows nothing, then one additive policy per allowed flow (clients, labelled pods, peers, DNS,
 * metrics, extra egress). Each flow is its own object, so a plan shows exactly what changes.
 */
export class AccessPolicy extends Construct {
  /** The label key that grants access under the convention, or undefined when it is off. */
  public readonly accessLabelKey?: string;
  /**
   * The namespaces whose pods carrying the access label are admitted, the topology's own first;
   * undefined when the convention is off or admits any namespace.
   */
  public readonly accessLabelNamespaces?: readonly string[];
  private readonly target: AccessTarget;

  constructor(scope: Construct, id: string, props: AccessPolicyProps) {
    super(scope, id);
    const p: Partial<AccessPolicyProps> = props ?? {};
    const v = new PropsValidator(this);
    const labelOn = p.accessLabel !== false;
    validateTarget(v, '', p, labelOn ? { max: 50, allowed: NAME_WITH_LABEL_ALLOWED } : { max: 63, allowed: NAME_ALLOWED });
    validatePorts(v, 'peerPorts', p.peerPorts, { required: true });
    validatePorts(v, 'metricsPorts', p.metricsPorts);
    const clients = validateList(v, 'clients', p.clients, AccessClient, CLIENT_FACTORIES);
    const egress = validateList(v, 'egress', p.egress, AccessEgress, EGRESS_FACTORIES);
    if (v.type('metrics', p.metrics, 'object', 'options { namespace?, podLabels? }')) {
      validateNamespace(v, 'metrics.namespace', p.metrics?.namespace);
      validateLabels(v, 'metrics.podLabels', p.metrics?.podLabels);
    }
    validateDns(v, p.dns);
    const label = validateAccessLabel(v, p.accessLabel);
    v.throwIfInvalid();

    this.target = props;
    const selector = { matchLabels: copyLabels(props.podSelector) };

    this.policy('DefaultDeny', 'default-deny', { podSelector: selector, policyTypes: ['Ingress', 'Egress'] });

    const clientPeers: NetworkPolicyV1SpecIngressFrom[] = clients.map((c) => c._peer());
    if (label) {
      const key = accessLabelKey(label.prefix, props.name);
      this.accessLabelKey = key;
      const labelled = { matchLabels: { [key]: 'allow' } };
      if (label.anyNamespace) {
        clientPeers.push({ namespaceSelector: {}, podSelector: labelled });
      } else {
        // The topology's own namespace, then every namespace named elsewhere in the props, once each.
        const named = [props.namespace];
        for (const ns of [...clients.map((c) => c._namespace), ...label.namespaces]) {
          if (ns !== undefined && !named.includes(ns)) named.push(ns);
        }
        this.accessLabelNamespaces = named;
        clientPeers.push({ podSelector: labelled });
        for (const ns of named.slice(1)) {
          clientPeers.push({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } }, podSelector: labelled });
        }
        if (label.namespaceLabels) {
          clientPeers.push({ namespaceSelector: { matchLabels: copyLabels(label.namespaceLabels) }, podSelector: labelled });
        }
      }
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

    // DNS only to the cluster DNS pods (and the DNS caches the user lists), never port 53 anywhere:
    // an open port 53 is a channel out of the cluster to any resolver on the internet.
    this.policy('AllowDns', 'allow-dns', { podSelector: selector, policyTypes: ['Egress'], egress: [dnsEgressRule(props.dns)] });

    if (props.metricsPorts && props.metricsPorts.length > 0) {
      const ns = props.metrics?.namespace ?? 'monitoring';
      this.policy('AllowMetrics', 'allow-metrics', {
        podSelector: selector,
        policyTypes: ['Ingress'],
        ingress: [{
          from: [{
            namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: ns } },
            ...(props.metrics?.podLabels ? { podSelector: { matchLabels: copyLabels(props.metrics.podLabels) } } : {}),
          }],
          ports: tcp(props.metricsPorts),
        }],
      });
    }

    if (egress.length > 0) {
      this.policy('AllowEgress', 'allow-egress', {
        podSelector: selector,
        policyTypes: ['Egress'],
        egress: egress.map((e) => ({ to: [e._peer()], ports: tcp(e.ports) })),
      });
    }
  }

  /**
   * Admits more clients after construction, as its own NetworkPolicy `<name>-allow-<id>`. The id is
   * the construct id, so pick a fixed one (never a value from user input). To grant access from
   * another stack, use {@link AccessGrant} there.
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

/** The access label options, checked; undefined when the convention is off. */
function validateAccessLabel(v: PropsValidator, value: AccessLabelOptions | false | undefined): ResolvedAccessLabel | undefined {
  if (value === false) return undefined;
  const allowed = `false, or options { ${ACCESS_LABEL_KEYS.map((k) => `${k}?`).join(', ')} }`;
  if (!validateOptions(v, 'accessLabel', value, ACCESS_LABEL_KEYS, allowed)) return undefined;
  const o: AccessLabelOptions = value ?? {};
  const prefix = o.prefix ?? DEFAULT_ACCESS_LABEL_PREFIX;
  if (v.type('accessLabel.prefix', o.prefix, 'string', PREFIX_ALLOWED)) {
    v.check('accessLabel.prefix', o.prefix, isDnsSubdomain, PREFIX_ALLOWED);
  }
  validateNamespaces(v, 'accessLabel.namespaces', o.namespaces);
  validateSelector(v, 'accessLabel.namespaceLabels', o.namespaceLabels,
    'an empty namespace selector would admit every namespace; say anyNamespace: true if that is meant');
  const any = v.type('accessLabel.anyNamespace', o.anyNamespace, 'boolean', 'true or false') && o.anyNamespace === true;
  if (any) {
    const why = 'not set together with anyNamespace: true, which already admits labelled pods of every namespace';
    if (o.namespaces !== undefined) v.fail('accessLabel.namespaces', o.namespaces, why);
    if (o.namespaceLabels !== undefined) v.fail('accessLabel.namespaceLabels', o.namespaceLabels, why);
  }
  return { prefix, namespaces: o.namespaces ?? [], namespaceLabels: o.namespaceLabels, anyNamespace: any };
}

/** The DNS egress options, checked. */
function validateDns(v: PropsValidator, dns: DnsEgressOptions | undefined): void {
  if (!validateOptions(v, 'dns', dns, DNS_KEYS, `options { ${DNS_KEYS.map((k) => `${k}?`).join(', ')} }`) || dns === undefined) return;
  validateNamespace(v, 'dns.namespace', dns.namespace);
  validateSelector(v, 'dns.podLabels', dns.podLabels, 'an empty selector would send DNS to every pod of the namespace');
  if (!v.type('dns.cidrs', dns.cidrs, 'array', `a list of ${DNS_CIDR_ALLOWED.replace(/^an /, '')}s`)) return;
  if (!v.known('dns.cidrs', dns.cidrs, 'the policy lists each CIDR, so the list itself must be known at synth time')) return;
  (dns.cidrs ?? []).forEach((c, i) => {
    if (v.type(`dns.cidrs[${i}]`, c, 'string', DNS_CIDR_ALLOWED)) {
      v.check(`dns.cidrs[${i}]`, c, (x) => {
        const parsed = parseIpv4Cidr(x);
        return parsed !== undefined && (isPrivateCidr(x) || cidrContains(LINK_LOCAL, parsed));
      }, DNS_CIDR_ALLOWED);
    }
  });
}

export interface AccessGrantProps {
  /** The topology to reach (any topology's `accessTarget`). */
  readonly target: AccessTarget;
  /** Who is admitted (at least one client). */
  readonly clients: AccessClient[];
  /** Which of the target's ports. @default all client ports of the target */
  readonly ports?: number[];
  /**
   * The NetworkPolicy's name, for grants whose construct id is not unique in the target's
   * namespace (two portals on one topology each grant themselves access).
   * @default '<target name>-allow-<construct id>'
   */
  readonly name?: string;
}

/**
 * One additional ingress NetworkPolicy into a topology's namespace, named
 * `<target name>-allow-<construct id>` unless `name` says otherwise. Use it from an application stack to admit that
 * application, with the target imported from attributes.
 */
export class AccessGrant extends Construct {
  public readonly resource: NetworkPolicyV1;

  constructor(scope: Construct, id: string, props: AccessGrantProps) {
    super(scope, id);
    const p: Partial<AccessGrantProps> = props ?? {};
    const v = new PropsValidator(this);
    const targetAllowed = 'an AccessTarget { namespace, name, podSelector, clientPorts } (a topology\'s accessTarget)';
    const targetOk = v.required('target', p.target, 'object', targetAllowed);
    if (targetOk) validateTarget(v, 'target.', p.target!, { max: 63, allowed: NAME_ALLOWED });
    const clients = validateList(v, 'clients', p.clients, AccessClient, CLIENT_FACTORIES, true);
    if (Array.isArray(p.clients) && p.clients.length === 0) v.fail('clients', p.clients, `at least one of ${CLIENT_FACTORIES}`);
    const targetPorts = targetOk && Array.isArray(p.target!.clientPorts) ? p.target!.clientPorts : [];
    validatePorts(v, 'ports', p.ports, { nonEmpty: true });
    if (v.type('name', p.name, 'string', 'a NetworkPolicy name (DNS-1123 label)')) v.check('name', p.name, (n) => isDnsLabel(n), 'a NetworkPolicy name (DNS-1123 label)');
    if (Array.isArray(p.ports) && !isUnresolved(p.ports) && !v.failed('target.clientPorts')) {
      const allowed = `a port of the target's client ports (${targetPorts.join(', ')})`;
      p.ports.forEach((x, i) => {
        if (typeof x === 'number' && isPort(x)) v.check(`ports[${i}]`, x, (n) => targetPorts.includes(n), allowed);
      });
    }
    v.throwIfInvalid();
    const target = props.target;
    this.resource = new NetworkPolicyV1(this, 'Resource', kubernetesObject(this, 'NetworkPolicy', {
      metadata: {
        name: props.name ?? childName(target.name, `allow-${toDnsLabel(this.node.id, 40)}`),
        namespace: target.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'redis-topologies', 'app.kubernetes.io/instance': target.name },
      },
      spec: {
        podSelector: { matchLabels: copyLabels(target.podSelector) },
        policyTypes: ['Ingress'],
        ingress: [{ from: clients.map((c) => c._peer()), ports: tcp(props.ports ?? target.clientPorts) }],
      },
    }));
  }
}

/** Who may connect to a topology: the client props every topology shares. */
export interface ClientAccessProps {
  /** Named clients admitted by the network policy, besides pods carrying the access label. @default none */
  readonly clients?: AccessClient[];
  /**
   * The access label convention (`<prefix>/redis-<name>-access: allow`); `false` turns it off.
   * @default on: prefix 'redis-topologies.io'; labelled pods admitted from the topology's own
   * namespace and the namespaces of `AccessClient.namespace(...)` clients only
   */
  readonly accessLabel?: AccessLabelOptions | false;
  /**
   * Where the pods may send DNS queries.
   * @default the cluster DNS pods: namespace kube-system, pods labelled k8s-app: kube-dns
   */
  readonly dns?: DnsEgressOptions;
}
