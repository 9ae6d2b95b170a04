import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { TerraformOutput } from '../core/cdktf';
import { childName, isDnsLabel } from '../core/names';
import { PropsValidator } from '../core/validation';
import { terraformLiterals } from '../core/escaping';
import { kubernetesObject } from '../core/registry';

export interface PortalConnectionOptions {
  /** Also publish the ConfigMap into these application namespaces. @default only the portal's namespace */
  readonly namespaces?: string[];
  /** Terraform outputs `redis_<name>_host`, `_port`, `_tls` and `_ca_pem`. @default true */
  readonly outputs?: boolean;
}

export interface PortalConnectionProps extends PortalConnectionOptions {
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  readonly port: number;
  readonly caCertificatePem?: string;
  readonly labels: Record<string, string>;
}

/**
 * What a portal's clients need, none of it secret: host, port, the TLS flag and the CA
 * certificate, as a ConfigMap (`REDIS_HOST`, `REDIS_PORT`, `REDIS_TLS`, `ca.crt`) in the portal's
 * and any application namespace, and as Terraform outputs. The password stays in the topology's
 * Secret.
 */
export class PortalConnection extends Construct {
  public readonly configMaps: ConfigMapV1[] = [];

  constructor(scope: Construct, id: string, props: PortalConnectionProps) {
    super(scope, id);
    const v = new PropsValidator(this);
    (props.namespaces ?? []).forEach((n, i) => v.check(`connection.namespaces[${i}]`, n, (x) => isDnsLabel(x), 'a namespace name'));
    const dup = (props.namespaces ?? []).find((n, i, all) => all.indexOf(n) !== i || n === props.namespace);
    if (dup !== undefined) v.fail('connection.namespaces', dup, 'namespaces listed once, other than the portal\'s own (always published)');
    v.throwIfInvalid();

    const data: Record<string, string> = {
      REDIS_HOST: props.host,
      REDIS_PORT: String(props.port),
      REDIS_TLS: 'true',
      ...(props.caCertificatePem !== undefined ? { 'ca.crt': props.caCertificatePem } : {}),
    };
    const name = childName(props.name, 'connection');
    for (const ns of [props.namespace, ...(props.namespaces ?? [])]) {
      this.configMaps.push(new ConfigMapV1(this, ns === props.namespace ? 'ConfigMap' : `ConfigMap-${ns}`, kubernetesObject(this, 'ConfigMap', {
        metadata: { name, namespace: ns, labels: props.labels },
        data,
      })));
    }
    if (props.outputs ?? true) {
      const prefix = `redis_${props.name.replace(/-/g, '_')}`;
      new TerraformOutput(this, 'Host', terraformLiterals({ value: props.host, description: `${props.name}: portal host` })).overrideLogicalId(`${prefix}_host`);
      new TerraformOutput(this, 'Port', terraformLiterals({ value: props.port, description: `${props.name}: portal TLS port` })).overrideLogicalId(`${prefix}_port`);
      new TerraformOutput(this, 'Tls', terraformLiterals({ value: true, description: `${props.name}: clients must use TLS` })).overrideLogicalId(`${prefix}_tls`);
      if (props.caCertificatePem !== undefined) {
        new TerraformOutput(this, 'Ca', terraformLiterals({ value: props.caCertificatePem, description: `${props.name}: CA certificate (PEM) that signs the portal certificate` })).overrideLogicalId(`${prefix}_ca_pem`);
      }
    }
  }
}
