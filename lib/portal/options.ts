/** The lowest TLS version a portal accepts. */
export class TlsVersion {
  /** TLS 1.2 and 1.3 (the default; what IBM's portals accept). */
  public static readonly TLS1_2 = new TlsVersion('TLSv1.2');
  /** TLS 1.3 only. */
  public static readonly TLS1_3 = new TlsVersion('TLSv1.3');
  private constructor(/** HAProxy's name for it. */ public readonly value: string) {}

  /** Makes the class nominal: an object literal with the same fields is not a TlsVersion. */
  private readonly optionClass = 'TlsVersion';

  public toString(): string {
    return `${this.optionClass}(${this.value})`;
  }
}

/** The factories that make a TlsVersion, for validation messages. */
export const TLS_VERSION_FACTORIES = 'TlsVersion.TLS1_2, TlsVersion.TLS1_3';

/** A cert-manager Issuer (in the portal's namespace) or ClusterIssuer. */
export class CertManagerIssuer {
  public static issuer(name: string): CertManagerIssuer {
    return new CertManagerIssuer('Issuer', name);
  }

  public static clusterIssuer(name: string): CertManagerIssuer {
    return new CertManagerIssuer('ClusterIssuer', name);
  }

  private constructor(public readonly kind: 'Issuer' | 'ClusterIssuer', public readonly name: string) {}

  /** Makes the class nominal: an object literal with the same fields is not a CertManagerIssuer. */
  private readonly optionClass = 'CertManagerIssuer';

  public toString(): string {
    return `${this.optionClass}.${this.kind}(${this.name})`;
  }
}

/** The factories that make a CertManagerIssuer, for validation messages. */
export const CERT_MANAGER_ISSUER_FACTORIES = 'CertManagerIssuer.issuer(name), CertManagerIssuer.clusterIssuer(name)';

export interface SelfSignedCertificateOptions {
  /** Lifetime of the portal CA. @default 3650 */
  readonly caValidityDays?: number;
  /** Lifetime of the server certificate. @default 365 */
  readonly validityDays?: number;
  /** A plan within this many days of the server certificate's expiry replaces it. @default 30 */
  readonly renewBeforeDays?: number;
}

export interface CertManagerInstallOptions {
  /** cert-manager chart version. @default 'v1.16.2' */
  readonly version?: string;
  /** Namespace cert-manager is installed into (created). @default 'cert-manager' */
  readonly namespace?: string;
  /** Helm repository. @default 'https://charts.jetstack.io' */
  readonly repository?: string;
}

export interface CertManagerCertificateOptions {
  readonly issuer: CertManagerIssuer;
  /**
   * Install cert-manager (with its CRDs) through the Helm provider, for clusters without it.
   * The Certificate is a CRD object: on a cluster without cert-manager, apply the Helm release
   * first (`cdktf deploy` with `-target`, or a separate stack) so the plan can read the CRD.
   * @default undefined (cert-manager already runs)
   */
  readonly install?: CertManagerInstallOptions;
  /** Certificate lifetime as a Go duration. @default '2160h' (90 days) */
  readonly duration?: string;
  /** Renew this long before expiry. @default '360h' (15 days) */
  readonly renewBefore?: string;
}

export interface ExistingCertificateOptions {
  /** A Secret in the portal's namespace with `tls.crt` and `tls.key` (type kubernetes.io/tls). */
  readonly secretName: string;
  /** The CA certificate (PEM) clients should trust, published with the connection details. @default not published */
  readonly caCertificatePem?: string;
}

/** Where the portal's server certificate and key come from. */
export class PortalCertificates {
  /**
   * A portal CA and a server certificate made by Terraform's hashicorp/tls provider. Simple and
   * offline, but the private keys live in Terraform state (sensitive values): use it where the
   * state backend is trusted with secrets, or prefer cert-manager.
   */
  public static selfSigned(options: SelfSignedCertificateOptions = {}): PortalCertificates {
    return new PortalCertificates('self-signed', options, undefined, undefined);
  }

  /** A cert-manager Certificate: the key is made in the cluster and never reaches Terraform state. */
  public static certManager(options: CertManagerCertificateOptions): PortalCertificates {
    return new PortalCertificates('cert-manager', undefined, options, undefined);
  }

  /** A TLS Secret managed outside this construct. */
  public static existingSecret(options: ExistingCertificateOptions): PortalCertificates {
    return new PortalCertificates('existing', undefined, undefined, options);
  }

  private constructor(
    public readonly kind: 'self-signed' | 'cert-manager' | 'existing',
    public readonly selfSignedOptions: SelfSignedCertificateOptions | undefined,
    public readonly certManagerOptions: CertManagerCertificateOptions | undefined,
    public readonly existingOptions: ExistingCertificateOptions | undefined,
  ) {}

  /** Makes the class nominal: an object literal with the same fields is not a PortalCertificates. */
  private readonly optionClass = 'PortalCertificates';

  public toString(): string {
    return `${this.optionClass}.${this.kind}`;
  }
}

/** The factories that make a PortalCertificates, for validation messages. */
export const PORTAL_CERTIFICATES_FACTORIES = 'PortalCertificates.selfSigned(), PortalCertificates.certManager(options), PortalCertificates.existingSecret(options)';

/** Annotations that keep a LoadBalancer internal on the common clouds; each cloud ignores the others'. */
export const INTERNAL_LOAD_BALANCER_ANNOTATIONS: Readonly<Record<string, string>> = {
  'networking.gke.io/load-balancer-type': 'Internal',
  'service.beta.kubernetes.io/aws-load-balancer-internal': 'true',
  'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
  'service.beta.kubernetes.io/azure-load-balancer-internal': 'true',
  'service.beta.kubernetes.io/oci-load-balancer-internal': 'true',
};

export interface InternalLoadBalancerOptions {
  /** Annotations for your cloud's controller. @default INTERNAL_LOAD_BALANCER_ANNOTATIONS */
  readonly annotations?: Record<string, string>;
  /** Private CIDRs (RFC1918) allowed to reach the load balancer. @default no restriction beyond the network policy */
  readonly sourceRanges?: string[];
}

/** How the portal Service is exposed. */
export class PortalServiceType {
  /** Reachable inside the cluster only (the default). */
  public static clusterIp(): PortalServiceType {
    return new PortalServiceType('ClusterIP', {}, []);
  }

  /** A cloud load balancer kept internal by annotations, for clients outside the cluster on private networks. */
  public static internalLoadBalancer(options: InternalLoadBalancerOptions = {}): PortalServiceType {
    return new PortalServiceType('LoadBalancer', { ...(options.annotations ?? INTERNAL_LOAD_BALANCER_ANNOTATIONS) }, options.sourceRanges ?? []);
  }

  private constructor(
    public readonly type: 'ClusterIP' | 'LoadBalancer',
    public readonly annotations: Readonly<Record<string, string>>,
    public readonly sourceRanges: readonly string[],
  ) {}

  /** Makes the class nominal: an object literal with the same fields is not a PortalServiceType. */
  private readonly optionClass = 'PortalServiceType';

  public toString(): string {
    return `${this.optionClass}(${this.type})`;
  }
}

/** The factories that make a PortalServiceType, for validation messages. */
export const PORTAL_SERVICE_TYPE_FACTORIES = 'PortalServiceType.clusterIp(), PortalServiceType.internalLoadBalancer(options)';

/** How often HAProxy asks each data member for its role. */
export interface PortalHealthCheckOptions {
  /** Interval between checks of a member in rotation (one changing state is checked every 100 ms, one out of rotation every 250 ms). @default 250 */
  readonly intervalMs?: number;
  /** Consecutive failures before a member leaves rotation. @default 2 */
  readonly fall?: number;
  /** Consecutive successes before a member enters rotation. @default 1 */
  readonly rise?: number;
  /** Read timeout of one check. @default 1000 */
  readonly timeoutMs?: number;
}
