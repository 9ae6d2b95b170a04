// Two projects: `unit` (synth + renderers, fast, parallel) and `live` (real redis/sentinel/haproxy
// processes in network namespaces, run one file at a time). `npm test` runs both.
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.live\\.test\\.ts$'],
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
