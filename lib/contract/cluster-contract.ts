import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { TerraformOutput } from '../core/cdktf';
import { terraformLiterals } from '../core/escaping';
import { claimOutput, kubernetesObject } from '../core/registry';
import { defaultOutputPrefix, PasswordSecretOptions, publishPasswordSecrets } from './connection-contract';

/** What a client needs to reach a Redis Cluster: directly (cluster protocol) or through its proxy. */
export interface ClusterConnectionDetails {
  readonly clusterName: string;
  readonly namespace: string;
  /** Every member's stable DNS name (one endpoint per node). */
  readonly memberHosts: string[];
  /** The client Service over every ready member, `<service>.<namespace>`: a seed for cluster clients. */
  readonly serviceHost: string;
  readonly redisPort: number;
  /** Whether the members speak TLS. */
  readonly tls: boolean;
  /** The single endpoint, `<service>.<namespace>`, with the enterprise policy. @default none */
  readonly proxyHost?: string;
  readonly proxyPort?: number;
  /** The proxy's CA certificate (PEM), when Terraform knows it. @default none */
  readonly proxyCaCertificatePem?: string;
  /** `oss`, `enterprise` or `twemproxy`. @default 'oss' */
  readonly mode?: 'oss' | 'enterprise' | 'twemproxy';
  /** The password, a Terraform reference (only into Secrets and sensitive outputs). @default unknown */
  readonly password?: string;
}

export interface ClusterConfigMapOptions {
  /** @default '<clusterName>-redis-cluster' */
  readonly name?: string;
  /** @default the topology's namespace */
  readonly namespaces?: string[];
}

export interface ClusterConnectionContractProps {
  readonly details: ClusterConnectionDetails;
  /**
   * The ConfigMap (no secrets): `REDIS_CLUSTER_NAME`, `REDIS_CLUSTER_MODE` (`oss`, `enterprise` or `twemproxy`),
   * `REDIS_CLUSTER_NODES` (every member as host:port, comma-separated), `REDIS_CLUSTER_SEED`
   * (the client Service, host:port), `REDIS_TLS`; with a proxy `REDIS_HOST`, `REDIS_PORT`,
   * `REDIS_PROXY_TLS` (false for twemproxy) and, where known, `ca.crt`. `false` leaves it out.
   * @default published in the topology's namespace
   */
  readonly configMap?: ClusterConfigMapOptions | false;
  /** A Secret with the password (key `password`). @default not published */
  readonly passwordSecret?: PasswordSecretOptions;
  /** @default true */
  readonly outputs?: boolean;
  /** @default 'redis_<namespace>_<clusterName>' */
  readonly outputPrefix?: string;
  readonly labels: Record<string, string>;
}

/** Every namespace a ClusterConnectionContract with these options publishes into. */
export function clusterContractNamespaces(namespace: string, configMap: ClusterConfigMapOptions | false | undefined, passwordSecret: PasswordSecretOptions | undefined): string[] {
  const cm = configMap === false ? [namespace] : configMap?.namespaces ?? [namespace];
  const all = [...(configMap === false ? [] : cm), ...(passwordSecret ? passwordSecret.namespaces ?? cm : [])];
  return all.filter((ns, i) => all.indexOf(ns) === i);
}

/**
 * Publishes a cluster's connection details: a ConfigMap with one endpoint per member, a seed for
 * cluster clients and, with the enterprise policy, the proxy endpoint; password Secrets for other
 * namespaces; Terraform outputs.
 */
export class ClusterConnectionContract extends Construct {
  /** Every namespace something is published into. */
  public readonly namespaces: string[];
  public readonly configMaps: ConfigMapV1[] = [];
  public readonly passwordSecrets: SecretV1[] = [];

  constructor(scope: Construct, id: string, props: ClusterConnectionContractProps) {
    super(scope, id);
    const d = props.details;
    this.namespaces = clusterContractNamespaces(d.namespace, props.configMap, props.passwordSecret);
    const cmNamespaces = props.configMap === false ? [d.namespace] : props.configMap?.namespaces ?? [d.namespace];
    if (props.configMap !== false) {
      const data: Record<string, string> = {
        REDIS_CLUSTER_NAME: d.clusterName,
        REDIS_CLUSTER_MODE: d.mode ?? 'oss',
        REDIS_CLUSTER_NODES: d.memberHosts.map((h) => `${h}:${d.redisPort}`).join(','),
        REDIS_CLUSTER_SEED: `${d.serviceHost}:${d.redisPort}`,
        REDIS_TLS: String(d.tls),
      };
      if (d.proxyHost) {
        data.REDIS_HOST = d.proxyHost;
        data.REDIS_PORT = String(d.proxyPort);
        data.REDIS_PROXY_TLS = String(d.mode !== 'twemproxy');
        if (d.proxyCaCertificatePem) data['ca.crt'] = d.proxyCaCertificatePem;
      }
      cmNamespaces.forEach((ns, i) => {
        this.configMaps.push(new ConfigMapV1(this, i === 0 ? 'ConfigMap' : `ConfigMap${i + 1}`, kubernetesObject(this, 'ConfigMap', {
          metadata: { name: props.configMap && props.configMap.name ? props.configMap.name : `${d.clusterName}-redis-cluster`, namespace: ns, labels: props.labels },
          data: { ...data },
        })));
      });
    }
    if (props.passwordSecret) {
      this.passwordSecrets.push(...publishPasswordSecrets(this, props.passwordSecret, cmNamespaces, props.labels, d.password!));
    }
    if (props.outputs !== false) {
      const prefix = props.outputPrefix ?? defaultOutputPrefix(d.namespace, d.clusterName);
      const out = (key: string, value: string | number | string[], description: string, sensitive = false) => {
        claimOutput(this, `${prefix}_${key}`);
        new TerraformOutput(this, key, terraformLiterals({ value, description, sensitive })).overrideLogicalId(`${prefix}_${key}`);
      };
      out('cluster_name', d.clusterName, 'Topology name (REDIS_CLUSTER_NAME)');
      out('cluster_nodes', d.memberHosts.map((h) => `${h}:${d.redisPort}`), 'Every member as host:port (one endpoint per node)');
      out('cluster_seed', `${d.serviceHost}:${d.redisPort}`, 'The client Service over the ready members, a seed for cluster clients');
      if (d.proxyHost) out('proxy_endpoint', `${d.proxyHost}:${d.proxyPort}`, d.mode === 'twemproxy' ? 'The single endpoint through twemproxy (no TLS)' : 'The single endpoint (TLS) through the cluster proxy');
    }
  }
}
