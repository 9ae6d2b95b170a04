// Helpers for the packed-install test: run commands loudly, copy the working tree as a fresh clone
// would have it, and read the README's usage example.
import { spawnSync } from 'child_process';
import { cpSync, readFileSync } from 'fs';
import { basename, join } from 'path';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for child npm/node processes: ours, without what `npm test` sets for its own
 * script (npm_package_*, npm_lifecycle_*, npm_config_local_prefix...), which would otherwise point
 * a nested npm at this repository instead of the scratch directory.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_|npm_command$|npm_config_local_prefix$|init_cwd$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Runs a command; `expectFailure` inverts the check. Throws with the full output when it goes the other way. */
export function run(cmd: string, args: string[], cwd: string, opts: { env?: NodeJS.ProcessEnv; expectFailure?: boolean } = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd, env: opts.env ?? childEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const result = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  const describe = () => `${cmd} ${args.join(' ')} (in ${cwd}): ${r.error ? r.error.message : `exit ${r.status}, signal ${r.signal}`}\n` +
    `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
  if (r.error) throw new Error(`could not run ${describe()}`);
  if (opts.expectFailure ? r.status === 0 : r.status !== 0) {
    throw new Error(`${opts.expectFailure ? 'unexpectedly succeeded' : 'failed'}: ${describe()}`);
  }
  return result;
}

/** What .gitignore keeps out of a clone, plus .git itself. */
const NOT_IN_A_CLONE = new Set(['.git', 'node_modules', 'dist', 'cdktf.out', 'coverage', '.gen', 'scratch']);

/** Copies the working tree to `dest` as a fresh clone of it would look: no dist/, no node_modules/. */
export function copyAsFreshClone(root: string, dest: string): void {
  cpSync(root, dest, {
    recursive: true,
    filter: (src) => {
      if (src === root) return true;
      const name = basename(src);
      const topLevel = src.slice(root.length + 1).split(/[\\/]/).length === 1;
      if (topLevel && NOT_IN_A_CLONE.has(name)) return false;
      return !name.endsWith('.tgz') && !name.endsWith('.tsbuildinfo');
    },
  });
}

/** The first ```<lang> block of the README section "## Using it in a platform repo". */
export function readmeUsageBlock(readmePath: string, lang: 'ts' | 'sh'): string {
  const readme = readFileSync(readmePath, 'utf8');
  const heading = '\n## Using it in a platform repo\n';
  const start = readme.indexOf(heading);
  if (start < 0) throw new Error(`${readmePath}: no section "## Using it in a platform repo"`);
  const rest = readme.slice(start + heading.length);
  const end = rest.indexOf('\n## ');
  const section = end < 0 ? rest : rest.slice(0, end);
  const block = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'm').exec(section);
  if (!block) throw new Error(`${readmePath}: no \`\`\`${lang} block in "## Using it in a platform repo"`);
  return block[1];
}

/** The one file in `dir` ending in .tgz. */
export function onlyTarball(files: string[], dir: string): string {
  const tgz = files.filter((f) => f.endsWith('.tgz'));
  if (tgz.length !== 1) throw new Error(`expected one tarball in ${dir}, found ${JSON.stringify(files)}`);
  return join(dir, tgz[0]);
}
