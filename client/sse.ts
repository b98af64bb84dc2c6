// A text/event-stream parser (WHATWG HTML §9.2.6): lines → events with id, event, data, retry.
// Comments (heartbeats) are dropped; the last event id persists across events as the spec says.

export interface ServerSentEvent {
  /** The last event id seen so far (what a reconnect sends as Last-Event-ID). */
  id: string | undefined;
  event: string;
  data: string;
  /** Reconnection time the server asked for, in ms, when this event carried one. */
  retry?: number;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private hasData = false;
  private retry: number | undefined;
  lastEventId: string | undefined;
  /** The reconnection time the server asked for last (a retry field may come without data). */
  retryMs: number | undefined;

  constructor(lastEventId?: string) {
    this.lastEventId = lastEventId;
  }

  /** Feeds a chunk of text; returns the events it completes. */
  push(chunk: string): ServerSentEvent[] {
    this.buffer += chunk;
    const out: ServerSentEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const e = this.line(line);
      if (e) out.push(e);
    }
    return out;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') {
      const retry = this.retry;
      this.retry = undefined;
      if (!this.hasData) {
        this.event = '';
        return undefined;
      }
      const e: ServerSentEvent = { id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n'), ...(retry !== undefined ? { retry } : {}) };
      this.data = [];
      this.hasData = false;
      this.event = '';
      return e;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = this.retryMs = Number(value);
    return undefined;
  }
}
