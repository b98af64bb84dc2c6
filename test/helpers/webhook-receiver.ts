// A local HTTPS webhook receiver for tests: a CA made here with the openssl command line, a
// certificate for 127.0.0.1/localhost signed by it, and a server that keeps every request and
// verifies its Standard Webhooks signature with the standardwebhooks package.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';

export interface TestCa {
  caFile: string;
  cert: string;
  key: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 and localhost, in `dir`. */
export function makeCa(dir: string): TestCa {
  const f = (name: string) => path.join(dir, name);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=Meridian test CA', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('ext.cnf'), '-out', f('server.pem')]);
  return { caFile: f('ca.pem'), cert: readFileSync(f('server.pem'), 'utf8'), key: readFileSync(f('server.key'), 'utf8') };
}

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, any> };
  /** Whether the standardwebhooks package verified it with one of the secrets given. */
  verified: boolean;
  status: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Secrets the signatures are checked with (set after the subscription is made). */
  secrets: string[];
  /** The answer to the next requests: a status, with headers (default 204). */
  respond: (r: Omit<Received, 'status'>) => { status: number; headers?: Record<string, string>; delayMs?: number };
  /** Stops answering (connections refused) and listens again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(ca: TestCa, port = 0): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    secrets: [],
    respond: () => ({ status: 204 }),
    down: async () => undefined,
    up: async () => undefined,
    close: async () => undefined,
  };
  let server: https.Server | undefined;
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server = https.createServer({ cert: ca.cert, key: ca.key, keepAliveTimeout: 500 }, (req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          const headers = { 'webhook-id': String(req.headers['webhook-id'] ?? ''), 'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''), 'webhook-signature': String(req.headers['webhook-signature'] ?? '') };
          const verified = receiver.secrets.some((s) => {
            try {
              new Webhook(s).verify(body, headers);
              return true;
            } catch {
              return false;
            }
          });
          let payload: Received['payload'];
          try {
            payload = JSON.parse(body) as Received['payload'];
          } catch {
            payload = { type: '(not JSON)', timestamp: '', data: {} };
          }
          const r = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], body, payload, verified };
          const answer = receiver.respond(r);
          receiver.received.push({ ...r, status: answer.status });
          const send = () => {
            res.writeHead(answer.status, answer.headers ?? {});
            res.end();
          };
          if (answer.delayMs) setTimeout(send, answer.delayMs);
          else send();
        });
      });
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve());
    });
  await listen(port);
  receiver.port = (server!.address() as AddressInfo).port;
  receiver.url = `https://127.0.0.1:${receiver.port}/hook`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
      server = undefined;
    });
  receiver.down = stop;
  receiver.up = () => listen(receiver.port);
  receiver.close = stop;
  return receiver;
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 20_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
