import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { contentTypeOf } from './site.js';

/**
 * `fleet dashboard --serve`: the site's directory over HTTP on 127.0.0.1 only (a quick look from the
 * publisher host, never a service for the network). GET and HEAD; no listing; nothing outside `dir`.
 */
export function serveDirectory(dir: string, port: number): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const relative = normalize(path.endsWith('/') ? `${path}index.html` : path).replace(/^(\.\.(\/|$))+/, '');
    if ((request.method !== 'GET' && request.method !== 'HEAD') || relative.split('/').includes('..')) {
      response.writeHead(request.method === 'GET' || request.method === 'HEAD' ? 404 : 405).end();
      return;
    }
    try {
      const body = await readFile(join(dir, relative));
      response.writeHead(200, { 'content-type': contentTypeOf(relative), 'cache-control': 'no-cache', 'content-length': body.length });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
