/**
 * The one place the library imports cdktf from. Moving to CDK Terrain (`cdktn`, the maintained
 * fork with the same API) is a change to this file only.
 */
export {
  Annotations,
  App,
  Fn,
  Lazy,
  Op,
  TerraformOutput,
  TerraformStack,
  TerraformVariable,
  Token,
  Tokenization,
} from 'cdktf';
export type { IResolvable } from 'cdktf';
