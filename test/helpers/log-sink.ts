import { Writable } from 'node:stream';

/** Collects the service's JSON log lines so tests can read what an operator would. */
export class LogSink extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    callback();
  }

  find(msg: string | RegExp): Record<string, unknown>[] {
    return this.lines.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
  }
}
