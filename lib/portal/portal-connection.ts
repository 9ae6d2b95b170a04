import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { TerraformOutput } from '../core/cdktf';
import { childName } from '../core/names';
import { validateNamespaces } from '../core/rules';
import { defaultOutputPrefix } from '../contract/connection-contract';
import { PropsValidator } from '../core/validation';
import { terraformLiterals } from '../core/escaping';
import { claimOutput, kubernetesObject } from '../core/registry';

export interface PortalConnectionOptions {
  /** Also publish the ConfigMap into these application namespaces. @default only the portal's namespace */
  readonly namespaces?: string[];
  /** Terraform outputs `<prefix>_host`, `_port`, `_tls` and `_ca_pem`. @default true */
  readonly outputs?: boolean;
  /** Prefix of the output names. @default 'redis_<namespace>_<portal name>' with '-' as '_' ('redis_<portal name>' when the namespace is a Terraform token) */
  readonly outputPrefix?: string;
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
    validateNamespaces(v, 'connection.namespaces', props.namespaces);
    if (Array.isArray(props.namespaces) && props.namespaces.includes(props.namespace)) {
      v.fail('connection.namespaces', props.namespace, 'namespaces other than the portal\'s own (always published)');
    }
    v.check('connection.outputPrefix', props.outputPrefix, (p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p), 'letters, digits and underscores, not starting with a digit');
    v.type('connection.outputs', props.outputs, 'boolean', 'true or false');
    v.throwIfInvalid();

    const data: Record<string, string> = {
      REDIS_HOST: props.host,
      REDIS_PORT: String(props.port),
      REDIS_TLS: 'true',
      ...(props.caCertificatePem !== undefined ? { 'ca.crt': props.caCertificatePem } : {}),
    };
    const name = childName(props.name, 'connection');
    // Construct ids count the namespaces (never their names, which may be Terraform tokens).
    [props.namespace, ...(props.namespaces ?? [])].forEach((ns, i) => {
      this.configMaps.push(new ConfigMapV1(this, i === 0 ? 'ConfigMap' : `ConfigMap${i + 1}`, kubernetesObject(this, 'ConfigMap', {
        metadata: { name, namespace: ns, labels: props.labels },
        data,
      })));
    });
    if (props.outputs ?? true) {
      const prefix = props.outputPrefix ?? defaultOutputPrefix(props.namespace, props.name);
      const out = (id: string, key: string, value: string | number | boolean, description: string) => {
        claimOutput(this, `${prefix}_${key}`);
        new TerraformOutput(this, id, terraformLiterals({ value, description: `${props.name}: ${description}` })).overrideLogicalId(`${prefix}_${key}`);
      };
      out('Host', 'host', props.host, 'portal host');
      out('Port', 'port', props.port, 'portal TLS port');
      out('Tls', 'tls', true, 'clients must use TLS');
      if (props.caCertificatePem !== undefined) out('Ca', 'ca_pem', props.caCertificatePem, 'CA certificate (PEM) that signs the portal certificate');
    }
  }
}
