/** @module testing: test your provider without Globus: a fake Globus Auth and Groups, and a client. */
export {
  fakeGlobus,
  type FakeClient,
  type FakeEndpoint,
  type FakeFailure,
  type FakeGlobus,
  type FakeGlobusCalls,
  type FakeGlobusOptions,
  type FakeUser,
  type IssueTokenOptions,
} from './fake-globus.ts';
export { actionClient, type ActionClient, type ActionClientOptions, type ClientReply, type RunRequest } from './client.ts';
