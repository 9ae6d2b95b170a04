import { AccessClient, AccessEgress, AccessGrant, AccessPolicy, AccessPolicyProps, isPrivateCidr } from '../../lib';
import { emptyStack, synth } from '../helpers';

const NP = 'kubernetes_network_policy_v1';
const base: AccessPolicyProps = {
  namespace: 'cache',
  name: 'sessions',
  podSelector: { 'app.kubernetes.io/instance': 'sessions', 'app.kubernetes.io/part-of': 'sentinel-redis' },
  clientPorts: [6379, 26379],
  peerPorts: [6379, 26379],
};

describe('AccessPolicy', () => {
  test('snapshot', () => {
    const out = synth((s) => new AccessPolicy(s, 'Access', {
      ...base,
      clients: [AccessClient.namespace('shop', { app: 'web' }), AccessClient.ipBlock('10.1.0.0/16', ['10.1.2.0/24'])],
      metricsPorts: [9121],
      egress: [AccessEgress.toCidr('10.50.0.0/24', [443])],
    }));
    expect(out.resources(NP)).toMatchSnapshot();
  });

  test('denies all ingress and egress to the topology by default', () => {
    const out = synth((s) => new AccessPolicy(s, 'Access', base));
    const deny = out.named(NP, 'sessions-default-deny', 'cache');
    expect(deny.spec.pod_selector.match_labels).toEqual(base.podSelector);
    expect(deny.spec.policy_types).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();
  });

  test('the label convention admits labelled pods of the topology\'s own namespace on client ports', () => {
    const out = synth((s) => new AccessPolicy(s, 'Access', { ...base, accessLabel: { prefix: 'elastisys.io' } }));
    const allow = out.named(NP, 'sessions-allow-clients');
    expect(allow.spec.ingress).toEqual([{
      from: [{ pod_selector: { match_labels: { 'elastisys.io/redis-sessions-access': 'allow' } } }],
      ports: [{ port: '6379', protocol: 'TCP' }, { port: '26379', protocol: 'TCP' }],
    }]);
  });

  test('label convention from any namespace only when asked for, or off', () => {
    const any = synth((s) => new AccessPolicy(s, 'Access', { ...base, accessLabel: { anyNamespace: true } }));
    expect(any.named(NP, 'sessions-allow-clients').spec.ingress[0].from).toEqual([
      { namespace_selector: {}, pod_selector: { match_labels: { 'redis-topologies.io/redis-sessions-access': 'allow' } } },
    ]);
    const off = synth((s) => new AccessPolicy(s, 'Access', { ...base, accessLabel: false }));
    expect(off.list(NP).map((p) => p.metadata.name)).not.toContain('sessions-allow-clients');
  });

  test('peers reach each other on peer ports only; DNS egress; metrics from monitoring', () => {
    const out = synth((s) => new AccessPolicy(s, 'Access', { ...base, peerPorts: [6379, 26379, 16379], metricsPorts: [9121] }));
    const peers = out.named(NP, 'sessions-allow-peers');
    const self = { pod_selector: { match_labels: base.podSelector } };
    expect(peers.spec.ingress[0].from).toEqual([self]);
    expect(peers.spec.egress[0].to).toEqual([self]);
    expect(peers.spec.egress[0].ports.map((p: any) => p.port)).toEqual(['6379', '26379', '16379']);
    const dns = out.named(NP, 'sessions-allow-dns');
    expect(dns.spec.egress).toEqual([{
      to: [{
        namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } },
      }],
      ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }],
    }]);
    const metrics = out.named(NP, 'sessions-allow-metrics');
    expect(metrics.spec.ingress[0].from).toEqual([{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    expect(metrics.spec.ingress[0].ports).toEqual([{ port: '9121', protocol: 'TCP' }]);
    // nothing else is allowed out
    const egressPolicies = out.list(NP).filter((p) => p.spec.policy_types.includes('Egress') && p.spec.egress);
    expect(egressPolicies.map((p) => p.metadata.name).sort()).toEqual(['sessions-allow-dns', 'sessions-allow-peers']);
  });

  test('named clients by pod and namespace selectors', () => {
    const out = synth((s) => new AccessPolicy(s, 'Access', {
      ...base,
      accessLabel: false,
      clients: [AccessClient.pods({ app: 'worker' }), AccessClient.pods({ app: 'api' }, { namespaceLabels: { team: 'shop' } })],
    }));
    expect(out.named(NP, 'sessions-allow-clients').spec.ingress[0].from).toEqual([
      { pod_selector: { match_labels: { app: 'worker' } } },
      { namespace_selector: { match_labels: { team: 'shop' } }, pod_selector: { match_labels: { app: 'api' } } },
    ]);
  });

  test('grants add one policy each, also from another construct tree', () => {
    const out = synth((s) => {
      const p = new AccessPolicy(s, 'Access', base);
      p.allow('Billing', [AccessClient.namespace('billing')], [6379]);
      new AccessGrant(s, 'Reports', { target: base, clients: [AccessClient.namespace('reports')] });
    });
    expect(out.named(NP, 'sessions-allow-billing').spec.ingress[0].ports).toEqual([{ port: '6379', protocol: 'TCP' }]);
    expect(out.named(NP, 'sessions-allow-reports').spec.ingress[0].ports).toHaveLength(2);
  });

  describe('ipBlock sources must be RFC 1918', () => {
    test.each(['10.0.0.0/8', '172.16.0.0/12', '172.31.255.0/24', '192.168.1.0/24', '10.1.2.3/32'])('%s accepted', (cidr) => {
      expect(isPrivateCidr(cidr)).toBe(true);
      expect(() => new AccessPolicy(emptyStack(), 'A', { ...base, clients: [AccessClient.ipBlock(cidr)] })).not.toThrow();
    });
    test.each(['0.0.0.0/0', '8.8.8.0/24', '172.32.0.0/16', '10.0.0.0/7', '192.168.1.1/24', 'fd00::/8', '10.0.0/8'])('%s rejected', (cidr) => {
      expect(() => new AccessPolicy(emptyStack(), 'A', { ...base, clients: [AccessClient.ipBlock(cidr)] }))
        .toThrow(`test/A: invalid prop "clients[0].cidr" = "${cidr}"; allowed: an IPv4 CIDR inside RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)`);
    });
    test('exceptions must lie inside the block', () => {
      expect(() => new AccessPolicy(emptyStack(), 'A', { ...base, clients: [AccessClient.ipBlock('10.1.0.0/16', ['10.2.0.0/24'])] }))
        .toThrow('invalid prop "clients[0].except[0]" = "10.2.0.0/24"; allowed: an IPv4 CIDR inside 10.1.0.0/16');
    });
  });

  test.each<[Partial<AccessPolicyProps>, string]>([
    [{ namespace: 'Bad_NS' }, 'invalid prop "namespace" = "Bad_NS"'],
    [{ clientPorts: [] }, 'invalid prop "clientPorts" = []'],
    [{ clientPorts: [70000] }, 'invalid prop "clientPorts[0]" = 70000'],
    [{ podSelector: {} }, 'invalid prop "podSelector" = {}'],
    [{ clients: [AccessClient.pods({})] }, 'invalid prop "clients[0].podLabels" = {}'],
    [{ accessLabel: { prefix: 'not a prefix' } }, 'invalid prop "accessLabel.prefix" = "not a prefix"'],
    [{ egress: [AccessEgress.toCidr('nowhere', [443])] }, 'invalid prop "egress[0].cidr" = "nowhere"'],
  ])('rejects bad props (%#)', (over, message) => {
    expect(() => new AccessPolicy(emptyStack(), 'A', { ...base, ...over })).toThrow(`test/A: ${message}`);
  });

  test('a grant may only open the target\'s client ports', () => {
    expect(() => new AccessGrant(emptyStack(), 'G', { target: base, clients: [AccessClient.namespace('x')], ports: [22] }))
      .toThrow('test/G: invalid prop "ports[0]" = 22; allowed: a port of the target\'s client ports (6379, 26379)');
  });
});
