import { Token, Tokenization } from './cdktf';

/**
 * The one way literal text enters a Terraform plan.
 *
 * In Terraform's JSON syntax every string is a template: `${` starts an interpolation and `%{` a
 * directive, so a shell script's `${VAR:-x}` or a HAProxy log format's `%{...}` would be read as
 * Terraform code and rejected at plan time. The literal spellings are `$${` and `%%{`. cdktf does
 * not escape for us (its `Fn.rawString` leaves `%{` as it is), so every construct of this library
 * passes the config of every resource and output it creates through {@link terraformLiterals}.
 *
 * References to other resources (cdktf tokens such as a Secret's name or a password's result) stay
 * references: only the literal text around them is escaped.
 */

/** Escapes one string that holds no cdktf token: `${` becomes `$${` and `%{` becomes `%%{`. */
export function escapeTemplateLiteral(text: string): string {
  // A function replacement: in a replacement string, `$$` itself means one `$`.
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/**
 * The inverse of {@link escapeTemplateLiteral}, as Terraform renders a template without
 * interpolations or directives: `$${` reads as `${` and `%%{` as `%{`.
 */
export function unescapeTemplateLiteral(text: string): string {
  return text.replace(/\$\$\{/g, () => '${').replace(/%%\{/g, () => '%{');
}

/**
 * Escapes the literal parts of a string and keeps its cdktf tokens as they are. Throws when a
 * literal `$` sits directly before a token: Terraform's template syntax has no way to write that
 * (`$${` would turn the reference into literal text).
 */
export function escapeTemplateText(text: string): string {
  if (!Token.isUnresolved(text)) return escapeTemplateLiteral(text);
  const markers = [...new Set(Tokenization.reverseString(text).tokens.map((t) => Token.asString(t)))];
  if (markers.length === 0) return escapeTemplateLiteral(text);
  const splitter = new RegExp(`(${markers.map(regexQuote).join('|')})`);
  const pieces = text.split(splitter);
  return pieces.map((piece, i) => {
    if (i % 2 === 1) return piece; // a token marker
    if (i + 1 < pieces.length && piece.endsWith('$')) {
      throw new Error(`literal "$" directly before a Terraform reference cannot be written in a Terraform template: ${JSON.stringify(text)}`);
    }
    return escapeTemplateLiteral(piece);
  }).join('');
}

/**
 * A copy of a resource's config (or any value) with every string escaped by
 * {@link escapeTemplateText}. Plain objects and arrays are copied; class instances (cdktf
 * tokens, resolvables, resources) and non-string scalars are kept as they are. Map keys are
 * escaped too: Terraform reads keys of JSON objects as templates as well.
 */
export function terraformLiterals<T>(value: T): T {
  return escapeDeep(value) as T;
}

function escapeDeep(value: unknown): unknown {
  if (typeof value === 'string') return escapeTemplateText(value);
  if (Array.isArray(value)) return value.map(escapeDeep);
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[escapeTemplateText(k)] = escapeDeep(v);
    return out;
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function regexQuote(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
