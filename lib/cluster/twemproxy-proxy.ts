import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import type { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { AccessPolicy } from '../access/access-policy';
import { checksumAnnotations } from '../core/checksum';
import { standardLabels } from '../core/labels';
import { childName } from '../core/names';
import { kubernetesObject } from '../core/registry';
import { IMAGE_ALLOWED, isImage, validateResources } from '../core/rules';
import { PropsValidator } from '../core/validation';
import { TwemproxyPolicyOptions } from './options';
import { ClusterProxyBaseProps, proxyWorkload } from './proxy-workload';
import { renderTwemproxyFiles, TWEMPROXY_PATHS, TwemproxyModel } from './twemproxy-conf';

/** nutcracker runs as this uid (set explicitly: an image's user is not a contract). */
export const TWEMPROXY_UID = 10001;
const PROXY_PORT = 6379;

export interface TwemproxyProxyProps extends ClusterProxyBaseProps {
  readonly options: TwemproxyPolicyOptions;
}

/**
 * The twemproxy policy's single endpoint: nutcracker pods (at least 2, on separate nodes) behind
 * one Service, spreading keys over standalone shards by consistent hashing. Clients AUTH with the
 * topology's password; no TLS (twemproxy has none). A proxy restarts itself (liveness probe) when a
 * shard's name resolves to a new address, because nutcracker resolves names only at start.
 */
export class TwemproxyProxy extends Construct {
  /** Checks the twemproxy options under `prop`. */
  public static validateOptions(v: PropsValidator, prop: string, o: TwemproxyPolicyOptions | undefined): void {
    if (!v.required(`${prop}.options`, o, 'object', 'twemproxy options { image, acknowledgeNoTls: true, replicas?, ... }')) return;
    v.requiredString(`${prop}.image`, o!.image, isImage, `${IMAGE_ALLOWED} with nutcracker, a POSIX shell and getent (no official image exists)`);
    if (o!.acknowledgeNoTls !== true) v.fail(`${prop}.acknowledgeNoTls`, o!.acknowledgeNoTls, 'true: twemproxy has no TLS, clients speak plain text to it (use ClusterPolicy.enterprise() for a TLS endpoint)');
    v.integer(`${prop}.replicas`, o!.replicas, 2, 20);
    v.integer(`${prop}.serverFailureLimit`, o!.serverFailureLimit, 1, 100);
    v.integer(`${prop}.serverRetryTimeoutMilliseconds`, o!.serverRetryTimeoutMilliseconds, 100, 3_600_000);
    validateResources(v, { memoryLimit: o!.memoryLimit, cpuRequest: o!.cpuRequest }, { memoryLimit: `${prop}.memoryLimit`, cpuRequest: `${prop}.cpuRequest` });
  }

  public readonly name: string;
  /** `<service>.<namespace>`. */
  public readonly host: string;
  public readonly port = PROXY_PORT;
  public readonly configFiles: Readonly<Record<string, string>>;
  public readonly deployment: DeploymentV1;
  public readonly accessPolicy: AccessPolicy;

  constructor(scope: Construct, id: string, props: TwemproxyProxyProps) {
    super(scope, id);
    const c = props.cluster;
    const o = props.options;
    const name = childName(c.name, 'proxy');
    this.name = name;
    this.host = `${name}.${c.namespace}`;
    const model: TwemproxyModel = {
      name: c.name,
      namespace: c.namespace,
      listenPort: PROXY_PORT,
      servers: c.shards.map((s) => ({ host: s.memberHosts[0], port: c.redisPort, name: s.memberHosts[0].split('.')[0] })),
      timeoutMs: 1000,
      serverFailureLimit: o.serverFailureLimit ?? 2,
      serverRetryTimeoutMs: o.serverRetryTimeoutMilliseconds ?? 10_000,
    };
    this.configFiles = renderTwemproxyFiles(model);
    const config = new ConfigMapV1(this, 'Config', kubernetesObject(this, 'ConfigMap', {
      metadata: { name, namespace: c.namespace, labels: standardLabels(props.identity) },
      data: { ...this.configFiles },
    }));
    const memory = o.memoryLimit ?? '64Mi';
    const workload = proxyWorkload(this, {
      ...props, name, replicas: o.replicas ?? 2, port: PROXY_PORT, runAs: { uid: TWEMPROXY_UID },
      annotations: checksumAnnotations(this.configFiles),
      container: {
        name: 'twemproxy',
        image: o.image,
        command: ['sh', `${TWEMPROXY_PATHS.scripts}/twemproxy-entrypoint.sh`],
        resources: { requests: { memory, cpu: o.cpuRequest ?? '100m' }, limits: { memory } },
        volumeMount: [
          { name: 'scripts', mountPath: TWEMPROXY_PATHS.scripts, readOnly: true },
          { name: 'auth', mountPath: TWEMPROXY_PATHS.auth, readOnly: true },
          { name: 'run', mountPath: TWEMPROXY_PATHS.run },
        ],
        // nutcracker resolves the shards' names once: a shard at a new address restarts the proxy.
        livenessProbe: { exec: { command: ['sh', `${TWEMPROXY_PATHS.scripts}/twemproxy-probe.sh`, 'liveness'] }, periodSeconds: 5, timeoutSeconds: 4, failureThreshold: 2 },
      },
      volumes: [
        { name: 'scripts', configMap: { name: config.metadata.name, defaultMode: '0555' } },
        { name: 'auth', secret: { secretName: c.auth.secretName, defaultMode: '0440', items: [{ key: c.auth.passwordKey, path: 'password' }] } },
        // The runtime config holds the password: memory only.
        { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
      ],
    });
    this.deployment = workload.deployment;
    this.accessPolicy = workload.accessPolicy;
  }
}
