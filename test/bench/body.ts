/**
 * @module test/bench/body: what a run body costs the server, by how it is framed: the same
 * bytes sent with a Content-Length, in large chunks and in tiny chunks (chunked transfer
 * coding, every HTTP chunk a separate piece for the server's parser and our reader).
 *
 *   npx tsx test/bench/body.ts [--size 1048576] [--repeat 3]
 *
 * The echo provider runs in a child process (test/bench/server.ts, bundled, served by
 * adapters/node.ts); this process writes the request over a raw socket, as fast as the socket
 * takes it, and reads the server's CPU time and resident memory before and after each request.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { ROOT } from '../support/processes.ts';
import { bundledServer } from './bundle.ts';
import type { FromChild, ToChild } from './server.ts';

const { values: args } = parseArgs({
  options: { size: { type: 'string', default: String(1024 * 1024) }, repeat: { type: 'string', default: '3' } },
});
const SIZE = Number(args.size);
const REPEAT = Number(args.repeat);

const child: ChildProcess = fork(await bundledServer('test/bench/server.ts'), ['provider'], {
  cwd: ROOT,
  execArgv: ['--expose-gc'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const next = <T extends FromChild['type']>(type: T) =>
  new Promise<Extract<FromChild, { type: T }>>((resolve) => {
    const on = (message: FromChild) => {
      if (message.type !== type) return;
      child.off('message', on);
      resolve(message as Extract<FromChild, { type: T }>);
    };
    child.on('message', on);
  });
const ask = <T extends FromChild['type']>(message: ToChild, type: T) => {
  const answer = next(type);
  child.send(message);
  return answer;
};
const { port, token } = await next('ready');

/** A run envelope of exactly `size` bytes. */
function envelope(size: number, n: number): Buffer {
  const head = `{"request_id":"body-${n}-${Math.random()}","body":{"input_string":"`;
  const tail = '"}}';
  return Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length - tail.length)) + tail);
}

/** The request's bytes: with a Content-Length, or chunked in pieces of `chunk` bytes. */
function framed(body: Buffer, chunk: number | undefined): Buffer[] {
  const start = `POST /run HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\nconnection: close\r\n`;
  if (chunk === undefined) return [Buffer.from(`${start}content-length: ${body.length}\r\n\r\n`), body];
  const parts: Buffer[] = [Buffer.from(`${start}transfer-encoding: chunked\r\n\r\n`)];
  for (let offset = 0; offset < body.length; offset += chunk) {
    const piece = body.subarray(offset, offset + chunk);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return parts;
}

/** Send one request; resolves to the status line's code. */
async function send(parts: Buffer[]): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (data) => {
    answer += data.toString('latin1');
  });
  // A refusal closes the connection while we still write: that is an answer, not a failure.
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', resolve));
  // Coalesce into large writes: the server sees tiny HTTP chunks, not tiny TCP segments.
  const all = Buffer.concat(parts);
  for (let offset = 0; offset < all.length && !socket.destroyed; offset += 1 << 16) {
    if (!socket.write(all.subarray(offset, offset + (1 << 16)))) {
      await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
    }
  }
  await closed;
  socket.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

const scenarios: [string, number | undefined][] = [
  ['Content-Length', undefined],
  ['chunked, 64 KiB pieces', 1 << 16],
  ['chunked, 1 KiB pieces', 1024],
  ['chunked, 16-byte pieces', 16],
  ['chunked, 1-byte pieces', 1],
];
console.log(
  `| framing of a ${SIZE.toLocaleString('en')}-byte run body | status | server CPU ms (median of ${REPEAT}) | ratio | server RSS after (MiB) |`,
);
console.log('| --- | ---: | ---: | ---: | ---: |');
let baseline = 0;
let n = 0;
for (const [name, chunk] of scenarios) {
  const costs: number[] = [];
  let status = 0;
  for (let i = 0; i < REPEAT; i++) {
    const parts = framed(envelope(SIZE, ++n), chunk);
    const before = (await ask({ type: 'cpu' }, 'cpu')).micros;
    status = await send(parts);
    costs.push(((await ask({ type: 'cpu' }, 'cpu')).micros - before) / 1000);
  }
  const cost = [...costs].sort((a, b) => a - b)[Math.floor(costs.length / 2)] ?? 0;
  baseline ||= cost;
  const { rss } = await ask({ type: 'rss' }, 'rss');
  console.log(
    `| ${name} | ${status} | ${cost.toFixed(1)} | ${(cost / baseline).toFixed(1)} | ${(rss / 2 ** 20).toFixed(0)} |`,
  );
}
child.send({ type: 'exit' } satisfies ToChild);
