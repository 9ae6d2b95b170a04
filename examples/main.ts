import { App } from '../lib/core/cdktf';
import { PlatformStack } from './platform';

/** The app `npm run synth` runs: one stack per example architecture, written to cdktf.out/stacks/. */
export function buildExamples(outdir?: string): App {
  const app = new App({ outdir, skipBackendValidation: true });
  new PlatformStack(app, 'platform');
  return app;
}

if (require.main === module) {
  buildExamples().synth();
}
