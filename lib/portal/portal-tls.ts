import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { Release } from '@cdktf/provider-helm/lib/release';
import { CertRequest } from '@cdktf/provider-tls/lib/cert-request';
import { LocallySignedCert } from '@cdktf/provider-tls/lib/locally-signed-cert';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { Fn } from '../core/cdktf';
import { childName, isDnsSubdomain } from '../core/names';
import { GO_DURATION_ALLOWED, isGoDuration, parseGoDuration, validateNamespace } from '../core/rules';
import { ensureProvider } from '../core/providers';
import { PropsValidator } from '../core/validation';
import { CERT_MANAGER_ISSUER_FACTORIES, CertManagerIssuer, PortalCertificates } from './options';
import { terraformLiterals } from '../core/escaping';
import { claimObject, kubernetesObject } from '../core/registry';

export interface PortalTlsProps {
  readonly name: string;
  readonly namespace: string;
  readonly certificates: PortalCertificates;
  /** Subject common name of the server certificate (the Service's full DNS name). */
  readonly commonName: string;
  /** Subject alternative names of the server certificate. */
  readonly dnsNames: string[];
  readonly labels: Record<string, string>;
}

/**
 * The portal's server certificate, from one of three sources, always ending as a Secret with
 * `tls.crt` and `tls.key` in the portal's namespace.
 */
export class PortalTls extends Construct {
  /** @internal checks for the certificates prop */
  public static validate(v: PropsValidator, c: PortalCertificates): void {
    const s = c.selfSignedOptions;
    if (s) {
      v.integer('certificates.caValidityDays', s.caValidityDays, 30, 36500);
      v.integer('certificates.validityDays', s.validityDays, 1, 3650);
      const validity = s.validityDays ?? 365;
      v.check('certificates.renewBeforeDays', s.renewBeforeDays, (r) => Number.isInteger(r) && r >= 1 && r < validity,
        `an integer from 1 to ${validity - 1} (less than validityDays)`);
    }
    const cm = c.certManagerOptions;
    if (cm) {
      if (v.option('certificates.issuer', cm.issuer, CertManagerIssuer, CERT_MANAGER_ISSUER_FACTORIES) && cm.issuer) {
        v.check('certificates.issuer.name', cm.issuer.name, (n) => isDnsSubdomain(n), 'an Issuer or ClusterIssuer name');
      } else if (cm.issuer === undefined) {
        v.fail('certificates.issuer', undefined, `one of ${CERT_MANAGER_ISSUER_FACTORIES} (required)`);
      }
      v.check('certificates.duration', cm.duration, isGoDuration, GO_DURATION_ALLOWED);
      v.check('certificates.renewBefore', cm.renewBefore, isGoDuration, GO_DURATION_ALLOWED);
      const duration = parseGoDuration(cm.duration ?? '2160h');
      const renewBefore = parseGoDuration(cm.renewBefore ?? '360h');
      if (duration !== undefined && renewBefore !== undefined && renewBefore >= duration) {
        v.fail('certificates.renewBefore', cm.renewBefore ?? '360h', `a duration shorter than certificates.duration (${cm.duration ?? '2160h'})`);
      }
      v.check('certificates.install.version', cm.install?.version, (x) => /^v?[0-9]+\.[0-9]+\.[0-9]+$/.test(x), 'a chart version such as v1.16.2');
      validateNamespace(v, 'certificates.install.namespace', cm.install?.namespace);
      v.check('certificates.install.repository', cm.install?.repository, (r) => /^(https|oci):\/\/[^\s]+$/.test(r), 'an https:// or oci:// chart repository URL');
    }
    const e = c.existingOptions;
    if (e) {
      v.check('certificates.secretName', e.secretName, isDnsSubdomain, 'a Secret name');
      v.check('certificates.caCertificatePem', e.caCertificatePem, (p) => p.includes('-----BEGIN CERTIFICATE-----'), 'a PEM certificate');
    }
  }

  /** The Secret with tls.crt and tls.key. */
  public readonly secretName: string;
  /** The CA certificate clients trust, when known to Terraform. */
  public readonly caCertificatePem?: string;
  /** Pod-template annotations that roll the portals when the certificate changes. */
  public readonly rolloutAnnotations: Record<string, string>;

  constructor(scope: Construct, id: string, props: PortalTlsProps) {
    super(scope, id);
    const secretName = childName(props.name, 'tls');
    const c = props.certificates;
    if (c.kind === 'self-signed') {
      const o = c.selfSignedOptions ?? {};
      ensureProvider(this, 'tls', (stack) => new TlsProvider(stack, 'tls'));
      const caKey = new PrivateKey(this, 'CaKey', terraformLiterals({ algorithm: 'ECDSA', ecdsaCurve: 'P256' }));
      const ca = new SelfSignedCert(this, 'Ca', terraformLiterals({
        privateKeyPem: caKey.privateKeyPem,
        subject: [{ commonName: `${props.name}.${props.namespace} portal CA`, organization: 'redis-topologies' }],
        isCaCertificate: true,
        validityPeriodHours: (o.caValidityDays ?? 3650) * 24,
        earlyRenewalHours: 30 * 24,
        allowedUses: ['cert_signing', 'crl_signing'],
      }));
      const key = new PrivateKey(this, 'ServerKey', terraformLiterals({ algorithm: 'ECDSA', ecdsaCurve: 'P256' }));
      const csr = new CertRequest(this, 'ServerRequest', terraformLiterals({
        privateKeyPem: key.privateKeyPem,
        subject: [{ commonName: props.commonName, organization: 'redis-topologies' }],
        dnsNames: props.dnsNames,
      }));
      const cert = new LocallySignedCert(this, 'ServerCert', terraformLiterals({
        certRequestPem: csr.certRequestPem,
        caPrivateKeyPem: caKey.privateKeyPem,
        caCertPem: ca.certPem,
        validityPeriodHours: (o.validityDays ?? 365) * 24,
        earlyRenewalHours: (o.renewBeforeDays ?? 30) * 24,
        allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
      }));
      const secret = new SecretV1(this, 'Secret', kubernetesObject(this, 'Secret', {
        metadata: { name: secretName, namespace: props.namespace, labels: props.labels },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': cert.certPem, 'tls.key': key.privateKeyPemPkcs8, 'ca.crt': ca.certPem },
      }));
      this.caCertificatePem = ca.certPem;
      // A Terraform reference: the portal's Deployment then depends on the Secret.
      this.secretName = secret.metadata.name!;
      // A renewed certificate changes this value at apply time, which rolls the portals.
      this.rolloutAnnotations = { 'redis-topologies.io/certificate-sha256': Fn.sha256(cert.certPem) };
    } else if (c.kind === 'cert-manager') {
      const o = c.certManagerOptions!;
      let dependsOn: Release[] | undefined;
      if (o.install) {
        ensureProvider(this, 'helm', (stack) => new HelmProvider(stack, 'helm', {}));
        dependsOn = [new Release(this, 'CertManager', terraformLiterals({
          name: 'cert-manager',
          chart: 'cert-manager',
          repository: o.install.repository ?? 'https://charts.jetstack.io',
          version: o.install.version ?? 'v1.16.2',
          namespace: o.install.namespace ?? 'cert-manager',
          createNamespace: true,
          wait: true,
          set: [{ name: 'crds.enabled', value: 'true' }],
        }))];
      }
      // cert-manager writes the Secret; both names are claimed so nothing else in the stack takes them.
      claimObject(this, 'Certificate', secretName, props.namespace);
      claimObject(this, 'Secret', secretName, props.namespace);
      new Manifest(this, 'Certificate', terraformLiterals({
        manifest: {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Certificate',
          metadata: { name: secretName, namespace: props.namespace, labels: props.labels },
          spec: {
            secretName,
            dnsNames: props.dnsNames,
            duration: o.duration ?? '2160h',
            renewBefore: o.renewBefore ?? '360h',
            privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
            usages: ['digital signature', 'key encipherment', 'server auth'],
            issuerRef: { group: 'cert-manager.io', kind: o.issuer.kind, name: o.issuer.name },
          },
        },
        dependsOn,
      }));
      // cert-manager renews the Secret in the cluster; the portal entrypoint reloads HAProxy on a change.
      this.rolloutAnnotations = {};
      this.secretName = secretName;
    } else {
      const o = c.existingOptions!;
      this.caCertificatePem = o.caCertificatePem;
      this.rolloutAnnotations = {};
      this.secretName = o.secretName;
    }
  }
}
