import { Construct } from 'constructs';
import { NetworkPolicyV1, NetworkPolicyV1Spec, NetworkPolicyV1SpecIngressFrom } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { childName } from '../core/names';
import { kubernetesObject } from '../core/registry';
import { copyLabels, tcp } from './access-rules';
import { dnsEgressRule, DnsEgressOptions } from './access-policy';

/** One allowed flow out: to these peers, on these TCP ports. */
export interface EgressFlow {
  readonly to: NetworkPolicyV1SpecIngressFrom[];
  readonly ports: number[];
}

export interface EgressPolicyProps {
  readonly namespace: string;
  /** Prefix of the policies' names (`<name>-default-deny`, ...). */
  readonly name: string;
  /** Their `app.kubernetes.io/instance` label: the topology they belong to. */
  readonly instance: string;
  /** The pods the policies select (at least one label). */
  readonly podSelector: Record<string, string>;
  /** Where the pods may connect to, besides DNS. */
  readonly egress: EgressFlow[];
  /** Where the pods send DNS queries. @default the cluster DNS pods (see AccessPolicy) */
  readonly dns?: DnsEgressOptions;
}

/**
 * Deny-by-default NetworkPolicies for pods that only connect out (backup Jobs): nothing may connect
 * to them, and they may reach DNS and the listed flows only. Each flow is its own object, so a plan
 * shows exactly what changes. The props are checked by the construct that builds them.
 */
export class EgressPolicy extends Construct {
  constructor(scope: Construct, id: string, props: EgressPolicyProps) {
    super(scope, id);
    const selector = { matchLabels: copyLabels(props.podSelector) };
    const policy = (pid: string, suffix: string, spec: NetworkPolicyV1Spec) => new NetworkPolicyV1(this, pid, kubernetesObject(this, 'NetworkPolicy', {
      metadata: {
        name: childName(props.name, suffix),
        namespace: props.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'redis-topologies', 'app.kubernetes.io/instance': props.instance },
      },
      spec,
    }));
    policy('DefaultDeny', 'default-deny', { podSelector: selector, policyTypes: ['Ingress', 'Egress'] });
    policy('AllowDns', 'allow-dns', { podSelector: selector, policyTypes: ['Egress'], egress: [dnsEgressRule(props.dns)] });
    policy('AllowEgress', 'allow-egress', {
      podSelector: selector,
      policyTypes: ['Egress'],
      egress: props.egress.map((f) => ({ to: f.to, ports: tcp(f.ports) })),
    });
  }
}
