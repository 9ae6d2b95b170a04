/**
 * Where Redis passwords come from. Auth is always on: there is no option without a password.
 */
export class RedisAuth {
  /**
   * Terraform generates the passwords (hashicorp/random `random_password`, alphanumeric) and
   * stores them in a Kubernetes Secret `<name>-auth`. The passwords are therefore in Terraform
   * state (marked sensitive): keep state in an encrypted backend with restricted access.
   */
  public static generated(options: GeneratedAuthOptions = {}): RedisAuth {
    return new RedisAuth('generated', undefined, 'password', options.length ?? 32);
  }

  /**
   * A Secret you create and rotate yourself (for example with external-secrets or sealed-secrets):
   * the password never enters Terraform state. ACL users' passwords are read from the keys
   * `acl-<user>` of the same Secret. Connection formats that embed the password (the 3scale
   * Secret, the URL output) are not available with this source.
   */
  public static fromExistingSecret(options: ExistingSecretAuthOptions): RedisAuth {
    return new RedisAuth('existing', options.secretName, options.passwordKey ?? 'password', 0);
  }

  private constructor(
    /** `generated` by Terraform, or an `existing` Secret. */
    public readonly source: 'generated' | 'existing',
    /** Name of the existing Secret. */
    public readonly existingSecretName: string | undefined,
    /** Key of the password inside the Secret. */
    public readonly passwordKey: string,
    /** Length of generated passwords. */
    public readonly length: number,
  ) {}

  /** Makes the class nominal: an object literal with the same fields is not a RedisAuth. */
  private readonly optionClass = 'RedisAuth';

  public toString(): string {
    return `${this.optionClass}.${this.source}`;
  }
}

/** The factories that make a RedisAuth, for validation messages. */
export const REDIS_AUTH_FACTORIES = 'RedisAuth.generated(), RedisAuth.fromExistingSecret(options)';

export interface GeneratedAuthOptions {
  /** Password length. @default 32 */
  readonly length?: number;
}

export interface ExistingSecretAuthOptions {
  /** Secret in the topology's namespace. */
  readonly secretName: string;
  /** Key holding the password. @default 'password' */
  readonly passwordKey?: string;
}

/** A reference to the Secret that holds a topology's password. */
export interface RedisAuthSecretRef {
  readonly secretName: string;
  readonly passwordKey: string;
}

/** Secret key of an ACL user's password. */
export function aclPasswordKey(user: string): string {
  return `acl-${user}`;
}
