/** @module check: the conformance checker (`checkProvider`, `formatReport`) and its report's types. */
export { CHECKS, type CheckDefinition } from './catalog.ts';
export { type CheckOptions, checkProvider, REQUEST_BOUND } from './check-provider.ts';
export { formatReport } from './report.ts';
export type {
  CheckProgress,
  CheckReport,
  CheckResult,
  Exchange,
  Outcome,
  ReceivedAnswer,
  SentRequest,
} from './types.ts';
