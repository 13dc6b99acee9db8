import { createServer, type Server } from 'node:http';
import { freePort } from './ports.js';

/** A fake EC2 instance metadata service (IMDSv2: a token from PUT, then GETs that must carry it). */
export interface FakeImds {
  endpoint: string;
  requests: string[];
  stop(): Promise<void>;
}

export async function startFakeImds(metadata: Record<string, string>): Promise<FakeImds> {
  const port = await freePort();
  const token = 'fake-imds-token';
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.method === 'PUT' && request.url === '/latest/api/token') {
      response.end(token);
      return;
    }
    if (request.headers['x-aws-ec2-metadata-token'] !== token) {
      response.statusCode = 401;
      response.end();
      return;
    }
    const value = metadata[(request.url ?? '').replace(/^\/latest\/meta-data\//, '')];
    response.statusCode = value === undefined ? 404 : 200;
    response.end(value ?? '');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
