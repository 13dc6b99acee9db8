import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of the test S3 server, for what s3rver cannot show on demand:
 * how many requests a code path makes (by method), S3 throttling (503 SlowDown) and a black-holed
 * S3 that accepts connections and never answers. Point the code under test at `endpoint`.
 */
export interface S3Fault {
  status: number;
  code: string;
  /** Only requests with this method get the fault; others pass through and do not use it up. */
  method?: string;
}

export interface ProxiedRequest {
  method: string;
  /** Decoded, without the query: /bucket/fleet/reports/dt=2026-11-25/... */
  path: string;
  /** 'forwarded', the fault's code, 'hung', or 'unreachable' (the server behind was down). */
  outcome: string;
  /** The HTTP status the client got (304 for an unchanged conditional GET), once answered. */
  status?: number;
  /** When it arrived (epoch ms): the source's own request log, for load measurements. */
  at: number;
}

export interface S3Proxy {
  endpoint: string;
  port: number;
  /** Every request seen, oldest first, faults included. */
  readonly requests: readonly ProxiedRequest[];
  /** Requests seen with `method` (all when omitted). */
  count(method?: string): number;
  reset(): void;
  /** Answer the next `times` matching requests with the fault instead of forwarding them. */
  failNext(times: number, fault?: Partial<S3Fault>): void;
  /** While on, accept requests and never answer them. */
  hang(on: boolean): void;
  stop(): Promise<void>;
}

const SLOW_DOWN: S3Fault = { status: 503, code: 'SlowDown' };

export async function startS3Proxy(target: { port: number }): Promise<S3Proxy> {
  const requests: ProxiedRequest[] = [];
  let faults: { fault: S3Fault; left: number } | undefined;
  let hanging = false;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://proxy').pathname);
    const seen: ProxiedRequest = { method: req.method ?? '?', path, outcome: 'forwarded', at: Date.now() };
    requests.push(seen);
    if (hanging) {
      seen.outcome = 'hung';
      req.resume(); // read the body, answer nothing
      return;
    }
    if (faults && faults.left > 0 && (!faults.fault.method || faults.fault.method === seen.method)) {
      faults.left -= 1;
      seen.outcome = faults.fault.code;
      seen.status = faults.fault.status;
      answerFault(req, res, faults.fault);
      return;
    }
    forward(req, res, target.port, seen);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    count: (method) => requests.filter((seen) => !method || seen.method === method).length,
    reset: () => void requests.splice(0),
    failNext(times, fault = {}) {
      faults = { fault: { ...SLOW_DOWN, ...fault }, left: times };
    },
    hang(on) {
      hanging = on;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An S3-style XML error, sent after the request body was read (as S3 does). */
function answerFault(req: IncomingMessage, res: ServerResponse, fault: S3Fault): void {
  req.resume();
  req.on('end', () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected by s3-proxy</Message></Error>`;
    res.writeHead(fault.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/** Pass the request through unchanged (s3rver checks no signature); a down server drops the connection. */
function forward(req: IncomingMessage, res: ServerResponse, port: number, seen: ProxiedRequest): void {
  const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    seen.status = answer.statusCode ?? 502;
    res.writeHead(seen.status, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    seen.outcome = 'unreachable';
    req.socket.destroy();
  });
  req.pipe(upstream);
}
