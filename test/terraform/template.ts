/**
 * Terraform's template syntax, as it applies to every string in a JSON configuration (cdk.tf.json):
 * `${ expr }` interpolates, `%{ ... }` is a directive, and `$${` / `%%{` are the literal `${` / `%{`.
 * The scanner follows HCL's (hclsyntax) left-to-right reading, so `$$${x}` is a literal `$` then a
 * literal `${x}`. The unit suite checks its rendering against the real terraform binary on every
 * string of every example plan (plan-check.terraform.test.ts), and the live harness renders with it.
 */

export type TemplatePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'interpolation'; readonly expr: string; readonly start: number; readonly end: number }
  | { readonly kind: 'directive'; readonly body: string; readonly start: number; readonly end: number };

export class TemplateSyntaxError extends Error {
  constructor(message: string, public readonly at: number) {
    super(message);
  }
}

/** Splits a template into literal text (escapes already read), interpolations and directives. */
export function parseTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  const flush = () => {
    if (lit) parts.push({ kind: 'literal', text: lit });
    lit = '';
  };
  while (i < s.length) {
    if (s.startsWith('$${', i) || s.startsWith('%%{', i)) {
      lit += s[i + 1] + '{';
      i += 3;
    } else if (s.startsWith('${', i) || s.startsWith('%{', i)) {
      const end = closingBrace(s, i + 2);
      flush();
      const body = s.slice(i + 2, end);
      parts.push(s[i] === '$'
        ? { kind: 'interpolation', expr: body, start: i, end: end + 1 }
        : { kind: 'directive', body, start: i, end: end + 1 });
      i = end + 1;
    } else {
      lit += s[i];
      i += 1;
    }
  }
  flush();
  return parts;
}

/** Index of the `}` that closes an interpolation or directive whose body starts at `from`. */
function closingBrace(s: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      i = closingQuote(s, i + 1) + 1;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth += 1;
    else if (c === ')' || c === ']') depth -= 1;
    else if (c === '}') {
      if (depth === 0) return i;
      depth -= 1;
    }
    i += 1;
  }
  throw new TemplateSyntaxError('unclosed template sequence', from - 2);
}

/** Index of the `"` that ends a quoted string (which may itself hold templates) starting at `from`. */
function closingQuote(s: string, from: number): number {
  let i = from;
  while (i < s.length) {
    if (s[i] === '\\') i += 2;
    else if (s[i] === '"') return i;
    else if (s.startsWith('$${', i) || s.startsWith('%%{', i)) i += 3;
    else if (s.startsWith('${', i) || s.startsWith('%{', i)) i = closingBrace(s, i + 2) + 1;
    else i += 1;
  }
  throw new TemplateSyntaxError('unclosed quoted string in a template sequence', from - 1);
}

/** True when the string has an interpolation or a directive: Terraform evaluates it. */
export function hasTemplateSequences(s: string): boolean {
  return parseTemplate(s).some((p) => p.kind !== 'literal');
}

/**
 * The text Terraform delivers for a string without interpolations or directives. Throws for a
 * string that has them: its value is only known to Terraform.
 */
export function renderLiteral(s: string): string {
  return parseTemplate(s).map((p) => {
    if (p.kind !== 'literal') throw new TemplateSyntaxError(`not a literal: ${s.slice(p.start, p.end)}`, p.start);
    return p.text;
  }).join('');
}

/** Names a Terraform configuration declares, against which references are checked. */
export interface Declarations {
  /** `<type>.<name>` of every resource. */
  readonly resources: ReadonlySet<string>;
  /** `<type>.<name>` of every data source. */
  readonly dataSources: ReadonlySet<string>;
  readonly variables: ReadonlySet<string>;
  readonly locals: ReadonlySet<string>;
  readonly modules: ReadonlySet<string>;
}

export function declarationsOf(json: any): Declarations {
  const pairs = (block: any) => new Set<string>(Object.entries<any>(block ?? {}).flatMap(([type, byName]) => Object.keys(byName ?? {}).map((n) => `${type}.${n}`)));
  const locals = new Set<string>();
  for (const l of [].concat(json.locals ?? [])) Object.keys(l ?? {}).forEach((k) => locals.add(k));
  return {
    resources: pairs(json.resource),
    dataSources: pairs(json.data),
    variables: new Set(Object.keys(json.variable ?? {})),
    locals,
    modules: new Set(Object.keys(json.module ?? {})),
  };
}

/** One problem in one string of a plan. */
export interface TemplateFinding {
  readonly problem: string;
  /** The offending sequence with a little context. */
  readonly snippet: string;
}

const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if', 'else', 'endif', 'endfor']);
// A traversal: a root name, then .attr / [index] steps.
const TRAVERSAL = /(^|[^A-Za-z0-9_.\]-])([A-Za-z_][A-Za-z0-9_-]*)((?:\s*\.\s*[A-Za-z_*][A-Za-z0-9_-]*|\s*\.\s*\d+|\s*\[[^\]]*\])*)(\s*\()?/g;

/** References in an expression (quoted strings are searched for their own templates). */
export function referencesIn(expr: string): Array<{ root: string; steps: string[]; call: boolean }> {
  const out: Array<{ root: string; steps: string[]; call: boolean }> = [];
  // Replace quoted strings by blanks, collecting the templates inside them.
  let bare = '';
  for (let i = 0; i < expr.length;) {
    if (expr[i] === '"') {
      const end = closingQuote(expr, i + 1);
      for (const p of parseTemplate(expr.slice(i + 1, end))) {
        if (p.kind === 'interpolation') out.push(...referencesIn(p.expr));
        if (p.kind === 'directive') out.push(...referencesIn(p.body));
      }
      bare += ' '.repeat(end + 1 - i);
      i = end + 1;
    } else {
      bare += expr[i];
      i += 1;
    }
  }
  bare = bare.replace(/\b\d+(\.\d+)?([eE][+-]?\d+)?\b/g, (m) => ' '.repeat(m.length));
  for (const m of bare.matchAll(TRAVERSAL)) {
    const steps = (m[3].match(/[A-Za-z_*][A-Za-z0-9_-]*|\d+/g) ?? []);
    out.push({ root: m[2], steps: m[3].trim().startsWith('.') ? steps : [], call: m[4] !== undefined });
  }
  return out;
}

/**
 * Findings for one string: every interpolation must reference only what the configuration
 * declares (a resource, `data.`, `var.`, `local.`, `module.`, or a function call on those), and
 * every directive must be a valid `if` / `else` / `endif` / `for` / `endfor`.
 */
export function checkTemplate(s: string, decl: Declarations): TemplateFinding[] {
  let parts: TemplatePart[];
  try {
    parts = parseTemplate(s);
  } catch (e) {
    const at = e instanceof TemplateSyntaxError ? e.at : 0;
    return [{ problem: (e as Error).message, snippet: around(s, at, at + 2) }];
  }
  const findings: TemplateFinding[] = [];
  for (const p of parts) {
    if (p.kind === 'literal') continue;
    const snippet = around(s, p.start, p.end);
    if (p.kind === 'directive') {
      const body = p.body.replace(/^~/, '').replace(/~$/, '').trim();
      if (!/^(if\s+\S.*|else|endif|for\s+[A-Za-z_][A-Za-z0-9_]*(\s*,\s*[A-Za-z_][A-Za-z0-9_]*)?\s+in\s+\S.*|endfor)$/s.test(body)) {
        findings.push({ problem: 'not a Terraform directive (a literal "%{" must be written "%%{")', snippet });
      }
      continue;
    }
    const expr = p.expr.replace(/^~/, '').replace(/~$/, '').trim();
    if (expr === '') {
      findings.push({ problem: 'empty interpolation', snippet });
      continue;
    }
    let refs: ReturnType<typeof referencesIn>;
    try {
      refs = referencesIn(expr);
    } catch (e) {
      findings.push({ problem: (e as Error).message, snippet });
      continue;
    }
    if (refs.filter((r) => !r.call && !KEYWORDS.has(r.root)).length === 0 && !refs.some((r) => r.call)) {
      findings.push({ problem: 'references nothing the configuration declares (a literal "${" must be written "$${")', snippet });
    }
    // One finding per interpolation: the first reference Terraform would not know.
    const problem = refs.map((r) => undeclared(r, decl)).find((x) => x !== undefined);
    if (problem) findings.push({ problem: `${problem} (a literal "\${" must be written "$\${")`, snippet });
  }
  return dedupe(findings);
}

function undeclared(r: { root: string; steps: string[]; call: boolean }, d: Declarations): string | undefined {
  if (r.call) return undefined; // a function: terraform validate checks its name
  if (KEYWORDS.has(r.root)) return undefined;
  const [a, b] = r.steps;
  switch (r.root) {
    case 'var': return a !== undefined && d.variables.has(a) ? undefined : `undeclared variable var.${a ?? ''}`;
    case 'local': return a !== undefined && d.locals.has(a) ? undefined : `undeclared local value local.${a ?? ''}`;
    case 'module': return a !== undefined && d.modules.has(a) ? undefined : `undeclared module module.${a ?? ''}`;
    case 'data': return a !== undefined && b !== undefined && d.dataSources.has(`${a}.${b}`) ? undefined : `undeclared data source data.${a ?? ''}.${b ?? ''}`;
    case 'path': case 'terraform': return undefined;
    default:
      if (a === undefined) return `"${r.root}" is not a reference Terraform knows`;
      return d.resources.has(`${r.root}.${a}`) ? undefined : `undeclared resource ${r.root}.${a}`;
  }
}

function around(s: string, start: number, end: number): string {
  const from = Math.max(0, start - 30);
  const to = Math.min(s.length, end + 30);
  return `${from > 0 ? '…' : ''}${s.slice(from, to)}${to < s.length ? '…' : ''}`;
}

function dedupe(f: TemplateFinding[]): TemplateFinding[] {
  const seen = new Set<string>();
  return f.filter((x) => {
    const k = `${x.problem}\0${x.snippet}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
