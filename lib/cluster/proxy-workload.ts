import { Construct } from 'constructs';
import type { DeploymentV1, DeploymentV1SpecTemplateSpecContainer, DeploymentV1SpecTemplateSpecVolume } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { deploymentV1Binding } from '../core/bindings';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { AccessClient, AccessEgress, AccessGrant, AccessPolicy, ClientAccessProps } from '../access/access-policy';
import { selectorLabels, standardLabels, WorkloadIdentity } from '../core/labels';
import { childName } from '../core/names';
import { placement, Spread } from '../core/pod-template';
import { AUTOMOUNT_SERVICE_ACCOUNT_TOKEN, restrictedContainerSecurityContext, restrictedPodSecurityContext, RunAs } from '../core/pod-security';
import { kubernetesObject } from '../core/registry';
import { IRedisCluster } from '../endpoint';

/** What a cluster gives each of its proxy constructs (ClusterProxy, TwemproxyProxy). */
export interface ClusterProxyBaseProps extends ClientAccessProps {
  readonly cluster: IRedisCluster;
  readonly identity: WorkloadIdentity;
  /** Extra namespaces admitted (where the connection details are published). @default none */
  readonly publishedNamespaces?: string[];
}

/** One proxy Deployment in front of a cluster's members: what differs between proxies. */
export interface ProxyWorkloadProps extends ClusterProxyBaseProps {
  readonly name: string;
  readonly replicas: number;
  readonly port: number;
  readonly runAs: RunAs;
  /** The proxy container, without securityContext and ports (added here). */
  readonly container: DeploymentV1SpecTemplateSpecContainer;
  readonly volumes: DeploymentV1SpecTemplateSpecVolume[];
  readonly annotations: Record<string, string>;
}

/**
 * A proxy's Deployment (pods on separate nodes, one replaced at a time), its PodDisruptionBudget,
 * its Service, its network policy (clients in, the members' client port out) and the grant that
 * admits it to the members on their client port only (never the cluster bus).
 */
export function proxyWorkload(scope: Construct, p: ProxyWorkloadProps): { deployment: DeploymentV1; accessPolicy: AccessPolicy } {
  const c = p.cluster;
  const namespace = c.namespace;
  const labels = standardLabels(p.identity);
  const selector = selectorLabels(p.identity);
  const DeploymentV1 = deploymentV1Binding();
  const deployment = new DeploymentV1(scope, 'Deployment', kubernetesObject(scope, 'Deployment', {
    metadata: { name: p.name, namespace, labels },
    spec: {
      replicas: String(p.replicas),
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0', maxUnavailable: '1' } },
      template: {
        metadata: { labels, annotations: p.annotations },
        spec: {
          automountServiceAccountToken: AUTOMOUNT_SERVICE_ACCOUNT_TOKEN,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurityContext(p.runAs),
          ...placement(selector, { zoneSpread: Spread.PREFERRED, nodeSpread: Spread.REQUIRED }),
          container: [{
            ...p.container,
            port: [{ name: 'redis', containerPort: p.port }],
            securityContext: restrictedContainerSecurityContext(p.runAs),
            readinessProbe: { tcpSocket: [{ port: 'redis' }], periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 2 },
          }],
          volume: p.volumes,
        },
      },
    },
  }));
  new PodDisruptionBudgetV1(scope, 'Pdb', kubernetesObject(scope, 'PodDisruptionBudget', {
    metadata: { name: p.name, namespace, labels },
    spec: { maxUnavailable: '1', selector: { matchLabels: selector } },
  }));
  new ServiceV1(scope, 'Service', kubernetesObject(scope, 'Service', {
    metadata: { name: p.name, namespace, labels },
    spec: { type: 'ClusterIP', selector, port: [{ name: 'redis', port: p.port, targetPort: 'redis' }] },
  }));
  const accessPolicy = new AccessPolicy(scope, 'Access', {
    namespace, name: p.name, podSelector: selector, clientPorts: [p.port],
    peerPorts: [],
    clients: [...(p.clients ?? []), ...(p.publishedNamespaces ?? []).map((ns) => AccessClient.namespace(ns))],
    accessLabel: p.accessLabel,
    dns: p.dns,
    egress: [AccessEgress.toNamespace(namespace, [c.redisPort], c.accessTarget.podSelector)],
  });
  new AccessGrant(scope, 'MemberGrant', {
    target: c.accessTarget,
    clients: [AccessClient.pods(selector)],
    ports: [c.redisPort],
    name: childName(c.name, 'allow-proxy'),
  });
  return { deployment, accessPolicy };
}
