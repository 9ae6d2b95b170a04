#!/usr/bin/env node
/**
 * `redis-topologies review [cdktf.out] [--base <other cdktf.out>] [--out <dir> [--svg]]`: a Markdown review
 * of every stack of a synthesized app (its summary, diagram, access, warnings and rendered files;
 * with --base, what changes, what is replaced and which pods roll). Writes `<out>/<stack>.md` (and,
 * with --svg, the diagram as `<out>/<stack>.svg`, rendered offline), or prints to stdout without --out. Reads only cdk.tf.json files; needs no cloud and no cluster.
 */
import * as fs from 'fs';
import * as path from 'path';
import { dot, renderSvg, reviewDiff, reviewStack } from './review';

function stacksOf(dir: string): Map<string, any> {
  const root = path.join(dir, 'stacks');
  if (!fs.existsSync(root)) throw new Error(`${dir}: no stacks/ folder (run cdktf synth, or give the synth output folder)`);
  return new Map(fs.readdirSync(root).sort().filter((s) => fs.existsSync(path.join(root, s, 'cdk.tf.json')))
    .map((s) => [s, JSON.parse(fs.readFileSync(path.join(root, s, 'cdk.tf.json'), 'utf8'))]));
}

/** Runs the command; returns the exit code. */
export async function main(argv: string[], write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const args = [...argv];
  if (args[0] === 'review') args.shift();
  let base: string | undefined;
  let out: string | undefined;
  let svg = false;
  const positional: string[] = [];
  while (args.length > 0) {
    const a = args.shift()!;
    if (a === '--base') base = args.shift();
    else if (a === '--out') out = args.shift();
    else if (a === '--svg') svg = true;
    else if (a === '--help' || a === '-h') {
      write('usage: redis-topologies review [cdktf.out] [--base <other cdktf.out>] [--out <dir> [--svg]]\n');
      return 0;
    } else if (a.startsWith('-')) {
      write(`unknown option ${a}\n`);
      return 2;
    } else positional.push(a);
  }
  let stacks: Map<string, any>;
  let baseStacks: Map<string, any> | undefined;
  try {
    stacks = stacksOf(positional[0] ?? 'cdktf.out');
    baseStacks = base !== undefined ? stacksOf(base) : undefined;
  } catch (e) {
    write(`redis-topologies review: ${(e as Error).message}\n`);
    return 1;
  }
  if (svg && out === undefined) {
    write('--svg needs --out <dir>\n');
    return 2;
  }
  if (out !== undefined) fs.mkdirSync(out, { recursive: true });
  for (const [name, plan] of stacks) {
    let text = reviewStack(name, plan);
    if (baseStacks) text += `\n${baseStacks.has(name) ? reviewDiff(name, baseStacks.get(name), plan) : '### Changes from the base plan\n\nA new stack.'}\n`;
    if (out !== undefined) fs.writeFileSync(path.join(out, `${name}.md`), text);
    else write(`${text}\n`);
    if (svg) fs.writeFileSync(path.join(out!, `${name}.svg`), await renderSvg(dot(plan, `stack ${name}`)));
  }
  for (const name of [...(baseStacks?.keys() ?? [])].filter((n) => !stacks.has(n))) {
    const text = `<!-- redis-topologies-review:${name} -->\n## Stack \`${name}\`\n\n**Removed**: every resource of this stack is destroyed.\n`;
    if (out !== undefined) fs.writeFileSync(path.join(out, `${name}.md`), text);
    else write(text);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
    process.stderr.write(`redis-topologies review: ${e.message}\n`);
    process.exitCode = 1;
  });
}
