/**
 * The one place that imports Cedar. The package's default entry is the bundler build; Node needs the `nodejs` entry,
 * which loads the wasm synchronously from disk (node_modules/@cedar-policy/cedar-wasm/package.json, "exports").
 */
export {
  checkParsePolicySet,
  policySetTextToParts,
  policyToJson,
  preparsePolicySet,
  statefulIsAuthorized,
  validate,
  type AuthorizationAnswer,
  type DetailedError,
  type EntityJson,
  type EntityUidJson,
  type CedarValueJson,
} from '@cedar-policy/cedar-wasm/nodejs';
