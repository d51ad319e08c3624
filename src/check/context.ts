/**
 * @module check/context: what one run of the checker shares between its steps: the sender,
 * the schemas, what is known of the provider, the actions it created, and the outcome of each
 * check, decided once and told to the progress callback as it is.
 */
import { isPlainObject } from '../model.ts';
import type { Derived } from './body.ts';
import { CHECKS, type CheckDefinition } from './catalog.ts';
import type { Credential, Send, Sent } from './exchange.ts';
import { gareProblems } from './gare.ts';
import {
  ACTION_STATUS_SCHEMA,
  ERROR_BODY_SCHEMA,
  LOG_PAGE_SCHEMA,
  PROVIDER_DESCRIPTION_SCHEMA,
  type SchemaCheck,
  schemaCheck,
} from './schemas.ts';
import type { CheckProgress, CheckResult, Exchange, Outcome } from './types.ts';

/** An action the checker made (on purpose or because a provider took a request it should have refused). */
export interface CreatedAction {
  id: string;
  /** Who made it: the checker can release only what its own token made. */
  by: Credential;
  /** `released`: answered 200 (and, where checked, gone); `kept`: answered 200 but still there. */
  state: 'open' | 'released' | 'kept';
}

export interface CheckContext {
  send: Send;
  schemas: { actionStatus: SchemaCheck; description: SchemaCheck; error: SchemaCheck; logPage: SchemaCheck };
  /** Which credentials this run has. */
  has: { token: boolean; other: boolean };
  /** The body to run with, or why there is none. */
  body: Derived;
  /** A body the input_schema refuses, or why there is none. */
  invalidBody: Derived;
  sleep(ms: number): Promise<void>;
  clock(): number;
  /** How long to wait for an action to complete before releasing it. */
  waitMs: number;
  /** Decide a check: a pass without problems, else a failure listing them with the exchanges. */
  judge(id: string, problems: readonly string[], exchanges: readonly Exchange[]): void;
  /** The check does not apply here, and why. */
  skip(id: string, reason: string): void;
  /** Every 2xx answer that may hold an ActionStatus goes through here (for `action-status.schema`). */
  sawStatus(sent: Sent, value: unknown): void;
  /** An action a run request made. */
  created(actionId: string, by: Credential): void;
  /** A release of `actionId` answered 200; `gone`: and the action is no longer there. */
  released(actionId: string, gone: boolean): void;
  /**
   * A run request's answer: a 2xx one holds an ActionStatus (seen by `sawStatus`) and made an
   * action, kept for the cleanup. Answers that action's id.
   */
  tookRun(sent: Sent, by: Credential): string | undefined;
  readonly actions: ReadonlyMap<string, CreatedAction>;
  /** Every check's result, in catalog order; undecided ones (an aborted run) as not applicable. */
  results(undecided: string): CheckResult[];
}

export interface ContextOptions {
  send: Send;
  /** Applied to every reason: one may quote an answer, and an answer may quote a token. */
  redact(text: string): string;
  has: CheckContext['has'];
  body: Derived;
  invalidBody: Derived;
  sleep(ms: number): Promise<void>;
  clock(): number;
  waitMs: number;
  onProgress: ((progress: CheckProgress) => void) | undefined;
}

/** How many invalid ActionStatus answers the schema check shows in full. */
const SHOWN_EXCHANGES = 3;
/** How many of their problems it lists, and how many answers for each. */
const SHOWN_LINES = 10;
const SHOWN_ROUTES = 3;

export function createContext(options: ContextOptions): CheckContext {
  const definitions = new Map<string, CheckDefinition>(CHECKS.map((check) => [check.id, check]));
  const decided = new Map<string, CheckResult>();
  const actions = new Map<string, CreatedAction>();
  const invalidStatuses: { problems: string[]; exchange: Exchange }[] = [];
  let statusesSeen = 0;
  const requirements = { seen: 0, invalid: [] as { problems: string[]; exchange: Exchange }[] };
  const sawRequirement = (sent: Sent, value: unknown, where: 'details' | 'error') => {
    const problems = gareProblems(value, where);
    if (problems === undefined) return;
    requirements.seen++;
    if (problems.length > 0) requirements.invalid.push({ problems, exchange: sent.exchange });
  };

  const decide = (id: string, outcome: Outcome, reason?: string, exchanges?: readonly Exchange[]) => {
    const definition = definitions.get(id);
    if (definition === undefined) throw new Error(`check: no check is named ${id}`);
    if (decided.has(id)) throw new Error(`check: ${id} was decided twice`);
    decided.set(id, {
      ...definition,
      outcome,
      ...(reason === undefined ? {} : { reason: options.redact(reason) }),
      ...(exchanges === undefined || exchanges.length === 0 ? {} : { exchanges: [...exchanges] }),
    });
    options.onProgress?.({ done: decided.size, total: definitions.size, id, outcome });
  };

  /** Every answer's requirement, if it holds one, is seen on the way: for `gare.shape`. */
  const send: Send = async (input) => {
    const sent = await options.send(input);
    const answer = sent.answer;
    if (answer !== undefined && (answer.status === 401 || answer.status === 403))
      sawRequirement(sent, answer.json, 'error');
    return sent;
  };

  /** One decision from what the aggregate checks gathered: a line per route and problem. */
  const aggregate = (
    id: string,
    seen: number,
    invalid: readonly { problems: string[]; exchange: Exchange }[],
    none: string,
  ) => {
    if (seen === 0) {
      decide(id, 'not-applicable', none);
      return;
    }
    // One line per distinct problem, naming the first few answers that had it.
    const where = new Map<string, Set<string>>();
    for (const { problems, exchange } of invalid) {
      const key = problems.join(', ');
      const routes = where.get(key) ?? new Set<string>();
      routes.add(`${exchange.request.method} ${new URL(exchange.request.url).pathname}`);
      where.set(key, routes);
    }
    const shownLines = [...where].slice(0, SHOWN_LINES).map(([problem, routes]) => {
      const named = [...routes].slice(0, SHOWN_ROUTES).join(', ');
      return `${problem} (${named}${routes.size > SHOWN_ROUTES ? `, and ${routes.size - SHOWN_ROUTES} more` : ''})`;
    });
    if (where.size > SHOWN_LINES) shownLines.push(`and ${where.size - SHOWN_LINES} more problems`);
    context.judge(
      id,
      invalid.length === 0 ? [] : [`${invalid.length} of ${seen} do not: ${shownLines.join('; ')}`],
      invalid.slice(0, SHOWN_EXCHANGES).map(({ exchange }) => exchange),
    );
  };

  const context: CheckContext = {
    send,
    schemas: {
      actionStatus: schemaCheck(ACTION_STATUS_SCHEMA),
      description: schemaCheck(PROVIDER_DESCRIPTION_SCHEMA),
      error: schemaCheck(ERROR_BODY_SCHEMA),
      logPage: schemaCheck(LOG_PAGE_SCHEMA),
    },
    has: options.has,
    body: options.body,
    invalidBody: options.invalidBody,
    sleep: options.sleep,
    clock: options.clock,
    waitMs: options.waitMs,
    judge(id, problems, exchanges) {
      if (problems.length === 0) decide(id, 'pass');
      else decide(id, 'fail', problems.join('; '), exchanges);
    },
    skip(id, reason) {
      decide(id, 'not-applicable', reason);
    },
    sawStatus(sent, value) {
      statusesSeen++;
      const problems = context.schemas.actionStatus(value);
      if (problems.length > 0) invalidStatuses.push({ problems, exchange: sent.exchange });
      if (isPlainObject(value) && value['status'] === 'INACTIVE') sawRequirement(sent, value['details'], 'details');
    },
    created(actionId, by) {
      if (!actions.has(actionId)) actions.set(actionId, { id: actionId, by, state: 'open' });
    },
    released(actionId, gone) {
      const action = actions.get(actionId);
      if (action !== undefined) action.state = gone ? 'released' : 'kept';
    },
    tookRun(sent, by) {
      const answer = sent.answer;
      if (answer === undefined || answer.status < 200 || answer.status > 299) return undefined;
      context.sawStatus(sent, answer.json);
      const id = isPlainObject(answer.json) ? answer.json['action_id'] : undefined;
      if (typeof id !== 'string' || id === '') return undefined;
      context.created(id, by);
      return id;
    },
    actions,
    results(undecided) {
      if (!decided.has('action-status.schema'))
        aggregate('action-status.schema', statusesSeen, invalidStatuses, 'no ActionStatus was answered');
      if (!decided.has('gare.shape'))
        aggregate(
          'gare.shape',
          requirements.seen,
          requirements.invalid,
          'the provider asked for no consent or login (no requirement was answered)',
        );
      for (const id of definitions.keys()) if (!decided.has(id)) decide(id, 'not-applicable', undecided);
      return CHECKS.map((check) => decided.get(check.id) as CheckResult);
    },
  };
  return context;
}
