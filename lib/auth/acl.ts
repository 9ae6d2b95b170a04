/** Redis ACL users beside the default user: names and permissions (passwords come from the auth Secret). */

/** What a Redis ACL user may do. */
export class AclPermissions {
  /**
   * Every command on every key and channel except the `@dangerous` and `@admin` categories
   * (FLUSHALL, FLUSHDB, CONFIG, DEBUG, KEYS, SHUTDOWN, MONITOR, REPLICAOF, ...).
   */
  public static application(): AclPermissions {
    return new AclPermissions('~* &* +@all -@dangerous -@admin');
  }

  /** Read commands only, on every key. */
  public static readOnly(): AclPermissions {
    return new AclPermissions('~* &* +@read +@connection -@dangerous');
  }

  /**
   * Raw ACL rules (everything after the user name and password), e.g. `~app:* +@read +@write`.
   * Rules that touch authentication (`nopass`, `resetpass`, `reset`, `>`, `<`, `#`, `!`, `on`,
   * `off`) are refused: the library sets each user's password from its Secret.
   */
  public static custom(rules: string): AclPermissions {
    return new AclPermissions(rules);
  }

  /** Makes the class nominal: an object literal with the same fields is not an AclPermissions. */
  private readonly optionClass = 'AclPermissions';

  private constructor(public readonly rules: string) {}

  public toString(): string {
    return `${this.optionClass}(${this.rules})`;
  }
}

/** The factories that make an AclPermissions, for validation messages. */
export const ACL_PERMISSIONS_FACTORIES = 'AclPermissions.application(), AclPermissions.readOnly(), AclPermissions.custom(rules)';

/**
 * The first ACL rule in `rules` that changes authentication or the user's on/off state, or
 * undefined. Those belong to the library: every user has exactly the password in its Secret.
 */
export function authChangingAclRule(rules: string): string | undefined {
  return rules.trim().split(/\s+/).find((r) => /^(nopass|resetpass|reset|on|off)$/i.test(r) || /^[<>#!]/.test(r));
}

export interface AclUser {
  /** User name (letters, digits, '-', '_'). */
  readonly name: string;
  /** Permissions. @default AclPermissions.application() */
  readonly permissions?: AclPermissions;
}
