import { AccessPolicy, AccessPolicyProps, DEFAULT_DNS_NAMESPACE, DEFAULT_DNS_POD_LABELS } from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { emptyStack, NP, synth } from '../helpers';

const base: AccessPolicyProps = {
  namespace: 'cache',
  name: 'sessions',
  podSelector: { 'app.kubernetes.io/instance': 'sessions' },
  clientPorts: [6379],
  peerPorts: [6379],
};
const DNS_PORTS = [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }];

function dnsEgress(props: Partial<AccessPolicyProps> = {}): any[] {
  return synth((s) => new AccessPolicy(s, 'Access', { ...base, ...props })).named(NP, 'sessions-allow-dns').spec.egress;
}

describe('DNS egress', () => {
  test('goes to the kube-dns pods in kube-system only, on UDP and TCP 53', () => {
    expect(DEFAULT_DNS_NAMESPACE).toBe('kube-system');
    expect(DEFAULT_DNS_POD_LABELS).toEqual({ 'k8s-app': 'kube-dns' });
    expect(dnsEgress()).toEqual([{
      to: [{
        namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } },
      }],
      ports: DNS_PORTS,
    }]);
  });

  test('no egress rule of any policy opens port 53 without a destination', () => {
    const out = synth((s) => new AccessPolicy(s, 'Access', { ...base, metricsPorts: [9121] }));
    for (const policy of out.list(NP)) {
      for (const rule of policy.spec.egress ?? []) {
        expect(rule.to?.length ?? 0).toBeGreaterThan(0);
        for (const to of rule.to) expect(to).not.toEqual({});
      }
    }
  });

  test('another namespace and labels (OpenShift), replacing the default labels', () => {
    expect(dnsEgress({ dns: { namespace: 'openshift-dns', podLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' } } })[0].to).toEqual([{
      namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'openshift-dns' } },
      pod_selector: { match_labels: { 'dns.operator.openshift.io/daemonset-dns': 'default' } },
    }]);
  });

  test('NodeLocal DNSCache by its link-local address, besides the DNS pods', () => {
    const egress = dnsEgress({ dns: { cidrs: ['169.254.20.10/32'] } });
    expect(egress[0].to).toEqual([
      { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } }, pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } } },
      { ip_block: { cidr: '169.254.20.10/32' } },
    ]);
    expect(egress[0].ports).toEqual(DNS_PORTS);
  });

  test('the DNS namespace may come from a Terraform variable', () => {
    const out = synth((s) => {
      const ns = new TerraformVariable(s, 'dns_namespace', { type: 'string' });
      new AccessPolicy(s, 'Access', { ...base, dns: { namespace: ns.stringValue } });
    });
    expect(out.named(NP, 'sessions-allow-dns').spec.egress[0].to[0].namespace_selector)
      .toEqual({ match_labels: { 'kubernetes.io/metadata.name': '${var.dns_namespace}' } });
  });

  test('public resolvers, empty selectors and bad namespaces are refused', () => {
    expect(() => new AccessPolicy(emptyStack(), 'A', { ...base, dns: { namespace: 'Kube System', podLabels: {}, cidrs: ['8.8.8.8/32', '169.254.20.10/32', '0.0.0.0/0'] } }))
      .toThrow([
        'test/A: invalid prop "dns.namespace" = "Kube System"; allowed: a namespace name: a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)',
        'test/A: invalid prop "dns.podLabels" = {}; allowed: at least one label (an empty selector would send DNS to every pod of the namespace)',
        'test/A: invalid prop "dns.cidrs[0]" = "8.8.8.8/32"; allowed: an IPv4 CIDR inside RFC 1918 or the link-local range 169.254.0.0/16 (e.g. NodeLocal DNSCache\'s 169.254.20.10/32)',
        'test/A: invalid prop "dns.cidrs[2]" = "0.0.0.0/0"; allowed: an IPv4 CIDR inside RFC 1918 or the link-local range 169.254.0.0/16 (e.g. NodeLocal DNSCache\'s 169.254.20.10/32)',
      ].join('\n'));
  });

  test('a misspelt option is refused rather than ignored', () => {
    expect(() => new AccessPolicy(emptyStack(), 'A', { ...base, dns: { namespaces: ['kube-system'] } as any }))
      .toThrow('test/A: invalid prop "dns.namespaces" = ["kube-system"]; allowed: no such option (the options are namespace, podLabels, cidrs)');
  });
});
