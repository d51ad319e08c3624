/** @module test/support/logger: a logger that keeps every line, for what was logged and what must never be. */
import { inspect } from 'node:util';
import type { LogFields, Logger } from '../../src/index.ts';

export interface LoggedLine {
  level: string;
  message: string;
  fields: LogFields | undefined;
}

export interface CapturingLogger extends Logger {
  lines: LoggedLine[];
  /** Each line as one JSON object, `{level, message, ...fields}`: what a JSON log sink would receive. */
  json(): string[];
  /** Everything logged as text, fields both inspected and as JSON, for leak scans. */
  text(): string;
}

export function captureLogger(): CapturingLogger {
  const lines: LoggedLine[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, fields });
  };
  const json = () => lines.map(({ level, message, fields }) => JSON.stringify({ level, message, ...fields }));
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    json,
    // inspect shows error stacks and causes that JSON.stringify would drop.
    text: () =>
      [
        ...lines.map(
          (line) =>
            `${line.level} ${line.message} ${inspect(line.fields, { depth: 20 })} ${JSON.stringify(line.fields)}`,
        ),
        ...json(),
      ].join('\n'),
  };
}
