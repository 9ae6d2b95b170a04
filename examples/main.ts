import { App } from '../lib/core/cdktf';
import { PlatformStack } from './platform';
import { SentinelStack } from './sentinel';
import { ClusterStack } from './cluster';
import { FlashStack } from './flash';

/** The app `npm run synth` runs: one stack per example architecture, written to cdktf.out/stacks/. */
export function buildExamples(outdir?: string): App {
  const app = new App({ outdir, skipBackendValidation: true });
  new PlatformStack(app, 'platform');
  new SentinelStack(app, 'sentinel');
  new ClusterStack(app, 'cluster');
  new FlashStack(app, 'flash');
  return app;
}

if (require.main === module) {
  buildExamples().synth();
}
