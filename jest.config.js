// Three projects: `unit` (synth + renderers, fast, parallel), `package` (npm pack, the tarball installed
// into a scratch cdktf app, the README example synthesized from it) and `live` (real
// redis/sentinel/haproxy processes in network namespaces, run one file at a time). `npm test` runs all three.
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.live\\.test\\.ts$', '<rootDir>/test/package/'],
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
