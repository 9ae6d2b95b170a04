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
import { PortalTls } from '../portal/portal-tls';
import { PATHS } from '../redis/paths';
import { ENVOY_IMAGE, EnvoyProxyModel, renderEnvoyConfig } from './envoy-config';
import { EnterprisePolicyOptions } from './options';
import { ClusterProxyBaseProps, proxyWorkload } from './proxy-workload';

/** Envoy's uid in the official image; set explicitly, the image's user is not a contract. */
export const ENVOY_UID = 101;
const PROXY_PORT = 6379;
const ADMIN_PORT = 9901;
const PROXY_TLS_DIR = '/etc/redis-topologies/proxy-tls';
const PROXY_CONFIG_DIR = '/etc/redis-topologies/proxy';

export interface ClusterProxyProps extends ClusterProxyBaseProps {
  readonly options: EnterprisePolicyOptions;
}

/**
 * The enterprise cluster policy's single endpoint: Envoy redis_proxy pods (at least 2, on separate
 * nodes) behind one Service, TLS 1.2+ at the listener, clients authenticating at the proxy with
 * the cluster's password. The proxy discovers slots from CLUSTER SLOTS (the members' stable names)
 * and follows MOVED/ASK. Its configuration is validated against Envoy's v3 API in the unit tests;
 * no Envoy binary runs on the test machines.
 */
export class ClusterProxy extends Construct {
  /** Checks the enterprise options under `prop`. */
  public static validateOptions(v: PropsValidator, prop: string, o: EnterprisePolicyOptions | undefined): void {
    if (!v.required(`${prop}.options`, o, 'object', 'enterprise options { certificates, replicas?, image?, memoryLimit?, cpuRequest? }')) return;
    v.integer(`${prop}.replicas`, o!.replicas, 2, 20);
    v.string(`${prop}.image`, o!.image, isImage, IMAGE_ALLOWED);
    validateResources(v, { memoryLimit: o!.memoryLimit, cpuRequest: o!.cpuRequest }, { memoryLimit: `${prop}.memoryLimit`, cpuRequest: `${prop}.cpuRequest` });
    if (o!.certificates === undefined) v.fail(`${prop}.certificates`, undefined, 'PortalCertificates.selfSigned(), .certManager(options) or .existingSecret(options) (required: the proxy speaks TLS to clients)');
    else PortalTls.validate(v, o!.certificates);
  }

  public readonly name: string;
  /** `<service>.<namespace>`. */
  public readonly host: string;
  public readonly port = PROXY_PORT;
  public readonly configFiles: Readonly<Record<string, string>>;
  public readonly caCertificatePem?: string;
  public readonly deployment: DeploymentV1;
  public readonly accessPolicy: AccessPolicy;

  constructor(scope: Construct, id: string, props: ClusterProxyProps) {
    super(scope, id);
    const c = props.cluster;
    const name = childName(c.name, 'proxy');
    const namespace = c.namespace;
    this.name = name;
    this.host = `${name}.${namespace}`;
    const labels = standardLabels(props.identity);
    const tls = new PortalTls(this, 'Tls', {
      name, namespace, certificates: props.options.certificates, labels,
      commonName: `${name}.${namespace}.svc`, dnsNames: [name, `${name}.${namespace}`, `${name}.${namespace}.svc`],
    });
    this.caCertificatePem = tls.caCertificatePem;
    const model: EnvoyProxyModel = {
      name: c.name, namespace, listenPort: PROXY_PORT, adminPort: ADMIN_PORT,
      seedHosts: c.dataMemberHosts, redisPort: c.redisPort,
      tlsCertFile: `${PROXY_TLS_DIR}/tls.crt`, tlsKeyFile: `${PROXY_TLS_DIR}/tls.key`,
      passwordFile: `${PATHS.auth}/${c.auth.passwordKey}`,
      opTimeoutMs: 1000, refreshMs: 5000,
    };
    this.configFiles = { 'envoy.yaml': renderEnvoyConfig(model) };
    const config = new ConfigMapV1(this, 'Config', kubernetesObject(this, 'ConfigMap', {
      metadata: { name, namespace, labels },
      data: { ...this.configFiles },
    }));
    const memory = props.options.memoryLimit ?? '128Mi';
    const workload = proxyWorkload(this, {
      ...props, name, replicas: props.options.replicas ?? 2, port: PROXY_PORT, runAs: { uid: ENVOY_UID },
      annotations: { ...checksumAnnotations(this.configFiles), ...tls.rolloutAnnotations },
      container: {
        name: 'envoy',
        image: props.options.image ?? ENVOY_IMAGE,
        command: ['envoy', '--config-path', `${PROXY_CONFIG_DIR}/envoy.yaml`, '--log-level', 'warn'],
        resources: { requests: { memory, cpu: props.options.cpuRequest ?? '100m' }, limits: { memory } },
        volumeMount: [
          { name: 'config', mountPath: PROXY_CONFIG_DIR, readOnly: true },
          { name: 'tls', mountPath: PROXY_TLS_DIR, readOnly: true },
          { name: 'auth', mountPath: PATHS.auth, readOnly: true },
          { name: 'tmp', mountPath: PATHS.tmp },
        ],
        livenessProbe: { tcpSocket: [{ port: 'redis' }], periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
      },
      volumes: [
        { name: 'config', configMap: { name: config.metadata.name, defaultMode: '0444' } },
        { name: 'tls', secret: { secretName: tls.secretName, defaultMode: '0440' } },
        // Only the password: Envoy reads the file verbatim, so it must hold the password alone.
        { name: 'auth', secret: { secretName: c.auth.secretName, defaultMode: '0440', items: [{ key: c.auth.passwordKey, path: c.auth.passwordKey }] } },
        { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
      ],
    });
    this.deployment = workload.deployment;
    this.accessPolicy = workload.accessPolicy;
  }
}
