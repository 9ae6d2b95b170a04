/**
 * Checks a synthesized plan (cdk.tf.json) the way Terraform will read it, offline:
 *
 * 1. a scan of every string with the template reader (template.ts): each `${...}` must reference
 *    something the stack declares and each `%{` must be a valid directive;
 * 2. the real terraform binary renders every string without references (as outputs of a
 *    configuration with no resources: init, apply, output -json), and the result must equal the
 *    template reader's rendering, which is what the live harness boots;
 * 3. the real terraform binary validates every string with references, with built-in
 *    `terraform_data` stand-ins (no provider needed) for the resources they reference.
 *
 * Findings name the stack, the resource address, the JSON path and the snippet.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { checkTemplate, declarationsOf, parseTemplate, renderLiteral, TemplatePart } from './template';

/** One string of a plan and where it is. */
export interface PlanString {
  readonly stack: string;
  /** Terraform address: `kubernetes_config_map_v1.x`, `output.y`, `data.t.n`, `provider.kubernetes`. */
  readonly address: string;
  /** JSON path inside the block, e.g. `data["redis-entrypoint.sh"]` or `spec.template.spec.container[0].command[1]`. */
  readonly path: string;
  readonly value: string;
  /** True for an object key (Terraform reads keys of attribute maps as templates too). */
  readonly isKey: boolean;
}

export interface PlanFinding {
  readonly stack: string;
  readonly address: string;
  readonly path: string;
  readonly problem: string;
  readonly snippet: string;
}

export function formatFinding(f: PlanFinding): string {
  return `${f.stack}: ${f.address} ${f.path}: ${f.problem}: ${JSON.stringify(f.snippet)}`;
}

/** Every string (and attribute-map key) in the blocks Terraform evaluates. */
export function planStrings(stack: string, json: any): PlanString[] {
  const out: PlanString[] = [];
  const walk = (address: string, path: string, v: unknown) => {
    if (typeof v === 'string') {
      out.push({ stack, address, path, value: v, isKey: false });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(address, `${path}[${i}]`, x));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '//') continue; // cdktf's metadata comment, not read by Terraform
        const p = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`;
        if (k.includes('${') || k.includes('%{')) out.push({ stack, address, path: `${p} (key)`, value: k, isKey: true });
        walk(address, p, x);
      }
    }
  };
  for (const [type, byName] of Object.entries<any>(json.resource ?? {})) {
    for (const [name, body] of Object.entries<any>(byName)) walk(`${type}.${name}`, '', body);
  }
  for (const [type, byName] of Object.entries<any>(json.data ?? {})) {
    for (const [name, body] of Object.entries<any>(byName)) walk(`data.${type}.${name}`, '', body);
  }
  for (const [name, body] of Object.entries<any>(json.output ?? {})) walk(`output.${name}`, '', body);
  for (const [name, body] of Object.entries<any>(json.provider ?? {})) walk(`provider.${name}`, '', body);
  for (const [name, body] of Object.entries<any>(json.module ?? {})) walk(`module.${name}`, '', body);
  [].concat(json.locals ?? []).forEach((l: any) => walk('locals', '', l));
  return out;
}

/** Step 1: the scan. */
export function scanPlan(stack: string, json: any): PlanFinding[] {
  const decl = declarationsOf(json);
  return planStrings(stack, json).flatMap((s) => checkTemplate(s.value, decl).map((f) => ({ stack, address: s.address, path: s.path, ...f })));
}

export class TerraformMissingError extends Error {}

/** Runs the terraform binary; throws (never skips) when it is missing or fails unexpectedly. */
function terraform(dir: string, args: string[], okCodes = [0]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('terraform', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', TF_CLI_CONFIG_FILE: '/dev/null' },
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  if (r.error) {
    throw new TerraformMissingError(`the plan check needs the terraform binary (1.11.4) on PATH: ${r.error.message}`);
  }
  if (!okCodes.includes(r.status ?? -1)) {
    throw new Error(`terraform ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The terraform version string, e.g. "1.11.4". */
export function terraformVersion(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rt-tf-'));
  try {
    return JSON.parse(terraform(dir, ['version', '-json']).stdout).terraform_version;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Step 2: renders strings without references through Terraform's own template engine and
 * returns, for each input string, the text Terraform produced.
 */
export function terraformRender(strings: readonly string[]): Map<string, string> {
  const unique = [...new Set(strings)];
  const dir = mkdtempSync(join(tmpdir(), 'rt-tf-render-'));
  try {
    const output: Record<string, { value: string }> = {};
    unique.forEach((s, i) => { output[`s${i}`] = { value: s }; });
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ output }));
    terraform(dir, ['init', '-input=false', '-no-color']);
    terraform(dir, ['apply', '-auto-approve', '-input=false', '-no-color']);
    const rendered = JSON.parse(terraform(dir, ['output', '-json', '-no-color']).stdout);
    const out = new Map<string, string>();
    unique.forEach((s, i) => out.set(s, rendered[`s${i}`].value));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A reference root rewritten to a `terraform_data` stand-in, whose `output` accepts any attribute path. */
function standIn(root: string, steps: string[]): { resource: string; consumed: number } | undefined {
  switch (root) {
    case 'var': case 'local': return steps[0] ? { resource: `${root}__${steps[0]}`, consumed: 1 } : undefined;
    case 'data': return steps[1] ? { resource: `data__${steps[0]}__${steps[1]}`, consumed: 2 } : undefined;
    case 'module': return steps[0] ? { resource: `module__${steps[0]}`, consumed: 1 } : undefined;
    default: return steps[0] ? { resource: `${root}__${steps[0]}`, consumed: 1 } : undefined;
  }
}

const ROOT_STEP = /(^|[^A-Za-z0-9_.\]"-])((?:data\s*\.\s*)?[A-Za-z_][A-Za-z0-9_-]*)\s*\.\s*([A-Za-z_][A-Za-z0-9_-]*)(?![A-Za-z0-9_-]*\s*\()/g;

/** The expression with every `<type>.<name>` (or `data.t.n`, `var.x`, ...) root replaced by its stand-in. */
function rewriteExpr(expr: string, used: Set<string>): string {
  return expr.replace(ROOT_STEP, (m, pre: string, root: string, step: string) => {
    const isData = /^data\s*\./.test(root);
    if (isData) {
      const [, type] = root.split(/\s*\.\s*/);
      const s = standIn('data', [type, step])!;
      used.add(s.resource);
      return `${pre}terraform_data.${s.resource}.output`;
    }
    if (['path', 'terraform', 'count', 'each', 'self'].includes(root)) return m;
    const s = standIn(root, [step])!;
    used.add(s.resource);
    return `${pre}terraform_data.${s.resource}.output`;
  });
}

function rewriteTemplate(parts: TemplatePart[], raw: string, used: Set<string>): string {
  let out = '';
  let last = 0;
  for (const p of parts) {
    if (p.kind === 'literal') continue;
    const inner = raw.slice(p.start + 2, p.end - 1);
    out += raw.slice(last, p.start) + raw.slice(p.start, p.start + 2) + rewriteExpr(inner, used) + '}';
    last = p.end;
  }
  return out + raw.slice(last);
}

/**
 * Step 3: `terraform validate` over every string that has interpolations, each the `input` of a
 * `terraform_data` check resource, with `terraform_data` stand-ins for what they reference.
 */
export function terraformValidate(strings: readonly PlanString[]): PlanFinding[] {
  if (strings.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'rt-tf-validate-'));
  try {
    const used = new Set<string>();
    const checks = strings.map((s) => rewriteTemplate(parseTemplate(s.value), s.value, used));
    // One resource per line, so a diagnostic's line number names the string it is about.
    const lines: string[] = ['{"resource": {"terraform_data": {'];
    const firstCheckLine = lines.length + 1;
    checks.forEach((c, i) => lines.push(`${JSON.stringify(`check_${i}`)}: {"input": ${JSON.stringify(c)}},`));
    [...used].sort().forEach((u) => lines.push(`${JSON.stringify(u)}: {},`));
    lines[lines.length - 1] = lines[lines.length - 1].replace(/,$/, '');
    lines.push('}}}');
    writeFileSync(join(dir, 'main.tf.json'), lines.join('\n'));
    terraform(dir, ['init', '-input=false', '-no-color']);
    const r = terraform(dir, ['validate', '-json', '-no-color'], [0, 1]);
    const result = JSON.parse(r.stdout);
    const findings: PlanFinding[] = [];
    for (const d of result.diagnostics ?? []) {
      if (d.severity !== 'error') continue;
      const line: number | undefined = d.range?.start?.line;
      const i = line !== undefined ? line - firstCheckLine : -1;
      const s = strings[i];
      findings.push(s
        ? { stack: s.stack, address: s.address, path: s.path, problem: `terraform validate: ${d.summary}${d.detail ? `: ${d.detail}` : ''}`, snippet: s.value.length > 200 ? `${s.value.slice(0, 200)}…` : s.value }
        : { stack: '?', address: '?', path: '?', problem: `terraform validate: ${d.summary}: ${d.detail ?? ''}`, snippet: '' });
    }
    return findings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PlanCheckResult {
  readonly findings: PlanFinding[];
  /** Every literal string (no interpolation, no directive) and the text Terraform rendered for it. */
  readonly rendered: Map<string, string>;
  readonly stringsChecked: number;
  readonly withReferences: number;
}

/**
 * The whole check over several stacks: scan, render literals with terraform and compare with the
 * template reader, validate strings with references.
 */
export function checkPlans(stacks: Record<string, any>): PlanCheckResult {
  const findings: PlanFinding[] = [];
  const literals: PlanString[] = [];
  const withRefs: PlanString[] = [];
  let total = 0;
  for (const [stack, json] of Object.entries(stacks)) {
    const scan = scanPlan(stack, json);
    findings.push(...scan);
    const bad = new Set(scan.map((f) => `${f.address}\0${f.path}`));
    for (const s of planStrings(stack, json)) {
      total += 1;
      if (bad.has(`${s.address}\0${s.path}`)) continue;
      const parts = parseTemplate(s.value);
      (parts.every((p) => p.kind === 'literal') ? literals : withRefs).push(s);
    }
  }
  const rendered = terraformRender(literals.map((s) => s.value));
  for (const s of literals) {
    const ours = renderLiteral(s.value);
    const theirs = rendered.get(s.value);
    if (ours !== theirs) {
      findings.push({ stack: s.stack, address: s.address, path: s.path, problem: `the template reader renders ${JSON.stringify(ours).slice(0, 120)} but terraform rendered ${JSON.stringify(theirs).slice(0, 120)}`, snippet: s.value.slice(0, 200) });
    }
  }
  findings.push(...terraformValidate(withRefs));
  return { findings, rendered, stringsChecked: total, withReferences: withRefs.length };
}
