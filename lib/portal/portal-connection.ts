import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { TerraformOutput } from '../core/cdktf';
import { childName } from '../core/names';
import { validateNamespaces } from '../core/rules';
import { defaultOutputPrefix, PasswordSecretOptions, publishPasswordSecrets, validatePasswordSecret } from '../contract/connection-contract';
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
  /**
   * A Secret with the backend's password (key `password`), for applications in other namespaces.
   * Needs a password Terraform knows (a SentinelRedis with RedisAuth.generated()). Its
   * `namespaces` default to `connection.namespaces` (the portal's own namespace when there are none).
   * @default not published
   */
  readonly passwordSecret?: PasswordSecretOptions;
}

export interface PortalConnectionProps extends PortalConnectionOptions {
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  readonly port: number;
  readonly caCertificatePem?: string;
  readonly labels: Record<string, string>;
  /**
   * The backend's password, for `passwordSecret`: sensitive, usually a Terraform reference
   * (random_password). Only ever written into the password Secrets. @default unknown to Terraform
   */
  readonly password?: string;
}

/**
 * What a portal's clients need: host, port, the TLS flag, the certificate's name and the CA
 * certificate, none of it secret, as a ConfigMap (`REDIS_HOST`, `REDIS_PORT`, `REDIS_TLS`,
 * `REDIS_TLS_SERVER_NAME`, `ca.crt`) in the portal's and any application namespace, and as
 * Terraform outputs. The password goes only into Secrets: the topology's, and optionally a
 * password Secret (`passwordSecret`) wherever the ConfigMap goes.
 */
export class PortalConnection extends Construct {
  public readonly configMaps: ConfigMapV1[] = [];
  /** The password Secrets, one per namespace (none unless passwordSecret). */
  public readonly passwordSecrets: SecretV1[] = [];
  /** Every namespace a ConfigMap or Secret of this connection is published into, each once. */
  public readonly namespaces: string[];

  constructor(scope: Construct, id: string, props: PortalConnectionProps) {
    super(scope, id);
    const v = new PropsValidator(this);
    validateNamespaces(v, 'connection.namespaces', props.namespaces);
    if (Array.isArray(props.namespaces) && props.namespaces.includes(props.namespace)) {
      v.fail('connection.namespaces', props.namespace, 'namespaces other than the portal\'s own (always published)');
    }
    v.check('connection.outputPrefix', props.outputPrefix, (p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p), 'letters, digits and underscores, not starting with a digit');
    v.type('connection.outputs', props.outputs, 'boolean', 'true or false');
    validatePasswordSecret(v, 'connection.passwordSecret', props.passwordSecret, props.password !== undefined,
      'only with a backend whose password Terraform knows (a SentinelRedis with RedisAuth.generated()): with RedisAuth.fromExistingSecret or an imported topology the password is in a Secret Terraform never reads; copy that Secret into the application namespaces yourself');
    v.throwIfInvalid();

    const data: Record<string, string> = {
      REDIS_HOST: props.host,
      REDIS_PORT: String(props.port),
      REDIS_TLS: 'true',
      // The name the portal's certificate is issued for: verify it (SNI and host name check).
      REDIS_TLS_SERVER_NAME: props.host,
      ...(props.caCertificatePem !== undefined ? { 'ca.crt': props.caCertificatePem } : {}),
    };
    const name = childName(props.name, 'connection');
    // Construct ids count the namespaces (never their names, which may be Terraform tokens).
    const namespaces = [props.namespace, ...(props.namespaces ?? [])];
    const secretNamespaces = props.passwordSecret ? props.passwordSecret.namespaces ?? props.namespaces ?? [props.namespace] : [];
    this.namespaces = [...namespaces, ...secretNamespaces].filter((ns, i, all) => all.indexOf(ns) === i);
    namespaces.forEach((ns, i) => {
      this.configMaps.push(new ConfigMapV1(this, i === 0 ? 'ConfigMap' : `ConfigMap${i + 1}`, kubernetesObject(this, 'ConfigMap', {
        metadata: { name, namespace: ns, labels: props.labels },
        data,
      })));
    });
    if (props.passwordSecret) {
      this.passwordSecrets.push(...publishPasswordSecrets(this, props.passwordSecret, props.namespaces ?? [props.namespace], props.labels, props.password!));
    }
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
