import { serve } from '/work/main/adapters/node.ts';
import { devAuth } from '/work/main/examples/dev-auth.ts';
import { ECHO_SCOPE, echoProvider } from '/work/main/examples/echo.ts';
import { silentLogger } from '/work/main/src/index.ts';
const dev = await devAuth();
const provider = echoProvider({ auth: dev.auth, logger: silentLogger });
const { port } = await serve(provider, { port: 18555, handleSignals: false });
console.log('TOKEN', await dev.mint(crypto.randomUUID(), ECHO_SCOPE), port);
process.on('exit', (c) => console.log('server exit', c));
