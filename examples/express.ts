/** @module examples/express: the echo provider mounted at /echo inside an existing Express app. */
import express from 'express';
import { expressMiddleware } from 'globus-action-provider/express';
import { jsonClientErrors } from 'globus-action-provider/node';
import { authFromEnv, banner } from './dev-auth.ts';
import { echoProvider } from './echo.ts';

const mode = await authFromEnv(process.env);
const app = express();
app.use(express.json()); // the host's own parser: the provider copes with it
app.get('/health', (_req, res) => void res.json({ ok: true }));
app.use('/echo', expressMiddleware(echoProvider({ auth: mode.auth, scope: mode.scope })));
// node:http's own answers (a malformed request, headers too large) in JSON too.
const server = jsonClientErrors(
  app.listen(Number(process.env['PORT'] ?? 8080), '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 8080;
    console.log(banner(`http://127.0.0.1:${port}/echo`, mode));
  }),
);
