// Four projects: `unit` (synth + renderers, fast, parallel), `programs` (real programs: the terraform
// binary over the example plans and the claims' lifecycle, the rendered shell scripts under sh with
// stand-ins for the daemons, the review command as users run it; seconds per file), `package` (npm pack, the tarball
// installed into a scratch cdktf app, the README example synthesized from it) and `live` (real
// redis/sentinel/haproxy processes in network namespaces, run one file at a time). `npm test` runs all four.
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
module.exports = {
  // Jest's default on a 2-core machine is one worker (cores - 1); the unit suite is CPU-bound in
  // module loading and synthesis, and takes about 20 s with two workers instead of 26 s with one.
  maxWorkers: 2,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.live\\.test\\.ts$', '\\.(terraform|sh|program)\\.test\\.ts$', '<rootDir>/test/package/'],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'programs',
      testMatch: ['<rootDir>/test/**/*.terraform.test.ts', '<rootDir>/test/**/*.sh.test.ts', '<rootDir>/test/**/*.program.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'package',
      testMatch: ['<rootDir>/test/package/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'live',
      testMatch: ['<rootDir>/test/live/**/*.live.test.ts'],
      transform,
      testEnvironment: 'node',
    },
  ],
};
