/** The line `faultline up` prints once the control channel is open. */
const LISTENING = /Faultline runtime listening on (http:\/\/127\.0\.0\.1:(\d+))/;

export function parseListeningLine(line: string): { url: string; port: number } | undefined {
  const m = LISTENING.exec(line);
  return m ? { url: m[1], port: Number(m[2]) } : undefined;
}

/** Splits a byte stream into lines, keeping a partial last line for the next chunk. */
export class LineSplitter {
  private rest = '';
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split(/\r?\n/);
    this.rest = lines.pop() ?? '';
    return lines;
  }
  end(): string[] {
    const r = this.rest;
    this.rest = '';
    return r ? [r] : [];
  }
}
