/** Exports of a plan: Markdown handout, JSON, A1111 parameters, ComfyUI workflow, share link. */
export { planToComfyWorkflow, type ComfyExportOptions } from './comfyui.ts';
export {
  jsonToPlanDocument,
  parseGenerationPlan,
  planToJson,
  PlanDocumentError,
  PLAN_DOCUMENT_FORMAT,
  type PlanDocument,
} from './json.ts';
export { escapeMarkdown, markdownToPlanDocument, planToMarkdown } from './markdown.ts';
export {
  catalogResolver,
  parametersToPlan,
  ParametersError,
  planToParameters,
  type ModelReference,
  type ModelResolver,
} from './parameters.ts';
export { decodeShare, encodeShare, SHARE_PARAM, shareUrl, shareValueOf, type SharedPlan } from './share.ts';
