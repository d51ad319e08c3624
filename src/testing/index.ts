/** @module testing: test your provider without Globus: a fake Globus Auth and Groups, and a client. */

export {
  type ActionClient,
  type ActionClientOptions,
  actionClient,
  type ClientReply,
  type RunRequest,
} from './client.ts';
export {
  type FakeClient,
  type FakeEndpoint,
  type FakeFailure,
  type FakeGlobus,
  type FakeGlobusCalls,
  type FakeGlobusOptions,
  type FakeLogin,
  type FakePolicy,
  type FakeUser,
  fakeGlobus,
  type IssueTokenOptions,
} from './fake-globus/index.ts';
export { cliResumes, type ReadGare, readGare } from './gare.ts';
