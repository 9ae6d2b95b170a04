/** Enum-like option classes shared by every topology. */

/** High availability (sentinels and failover) or a single development instance. */
export class Availability {
  /** A primary, replicas and a quorum of sentinels that fail over automatically. */
  public static readonly HIGH_AVAILABILITY = new Availability('high-availability', true);
  /**
   * One data member and no sentinels: no failover, no redundancy. For development only; the plan
   * carries the annotation `redis-topologies.io/availability: development`.
   */
  public static readonly DEVELOPMENT = new Availability('development', false);
  private constructor(public readonly value: string, public readonly highlyAvailable: boolean) {}

  /** Makes the class nominal: an object literal with the same fields is not an Availability. */
  private readonly optionClass = 'Availability';

  public toString(): string {
    return `${this.optionClass}.${this.highlyAvailable ? 'HIGH_AVAILABILITY' : 'DEVELOPMENT'}`;
  }
}

/** The factories that make an Availability, for validation messages. */
export const AVAILABILITY_FACTORIES = 'Availability.HIGH_AVAILABILITY, Availability.DEVELOPMENT';
