// Minimal require hook: transpiles the repository's TypeScript with @swc/core (already a dev
// dependency for jest), so `cdktf synth` and the benchmarks run examples/*.ts without a build step.
'use strict';
const fs = require('fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    sourceMaps: 'inline',
    module: { type: 'commonjs' },
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  });
  module._compile(code, filename);
};
