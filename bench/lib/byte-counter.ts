/**
 * A loopback TCP relay in front of sshd that counts the bytes of each connection in both directions:
 * what a poll really costs on the wire (SSH framing and handshake included), measured the same way for
 * the baseline and the agent, whatever either says about itself.
 */
import { createServer, connect, type Server } from 'node:net';

export interface ByteCounter {
  port: number;
  /** Bytes sent server → client, summed over connections since the last take(). */
  take(): { received: number; sent: number; connections: number };
  stop(): Promise<void>;
}

export async function startByteCounter(targetPort: number): Promise<ByteCounter> {
  let received = 0;
  let sent = 0;
  let connections = 0;
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    client.on('data', (chunk: Buffer) => (sent += chunk.length));
    upstream.on('data', (chunk: Buffer) => (received += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    take() {
      const taken = { received, sent, connections };
      received = sent = connections = 0;
      return taken;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
