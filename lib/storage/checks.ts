/**
 * Small validation helpers shared by the storage constructs and factories. Internal: not exported
 * from the package index.
 */
import { PropsValidator } from '../core/validation';

/** Non-empty text without whitespace (spaces, tabs, newlines). */
export function isWord(value: string): boolean {
  return /^\S+$/.test(value);
}

/** A plain options object, or undefined for anything else (so factories never throw a TypeError). */
export function asOptions<T extends object>(options: unknown): Partial<T> {
  return options !== null && typeof options === 'object' && !Array.isArray(options) ? (options as Partial<T>) : {};
}

/**
 * The options argument of a factory: an object (or omitted, when every option is optional).
 * Returns whether the fields are worth checking.
 */
export function checkOptions(v: PropsValidator, prop: string, options: unknown, required: boolean, allowed: string): boolean {
  if (options === undefined && !required) return true;
  if (options === undefined || options === null) {
    v.fail(prop, options, `${allowed} (required)`);
    return false;
  }
  if (typeof options !== 'object' || Array.isArray(options)) {
    v.fail(prop, options, allowed);
    return false;
  }
  return true;
}

/** A boolean prop: true or false, nothing else (no 'yes', no 1). */
export function checkBoolean(v: PropsValidator, prop: string, value: unknown): boolean {
  return v.type(prop, value, 'boolean', 'true or false');
}
