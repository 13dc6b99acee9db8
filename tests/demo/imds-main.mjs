// A fake EC2 instance metadata service (IMDSv2) for each demo host, so the demo fleet looks like a fleet:
// its own instance id, private IP and zone per host. One process, one port per host.
// argv: PORT=INSTANCE_ID,PRIVATE_IP,AVAILABILITY_ZONE ...   Prints "ready" once every port listens.
// It stops with its parent unless AGENT_DEMO_KEEP=1 (run-demo.sh --keep leaves it up for the fleet view).
import { createServer } from 'node:http';

const TOKEN = 'demo-imds-token';
const hosts = process.argv.slice(2).map((arg) => {
  const [port, spec] = arg.split('=');
  const [id, ip, zone] = spec.split(',');
  return { port: Number(port), metadata: { 'instance-id': id, 'local-ipv4': ip, 'placement/availability-zone': zone, 'placement/region': zone.slice(0, -1), 'instance-type': 't3.small', 'ami-id': 'ami-0demo000000000000' } };
});
const servers = await Promise.all(
  hosts.map(({ port, metadata }) => new Promise((resolve) => {
    const server = createServer((request, response) => {
      if (request.method === 'PUT' && request.url === '/latest/api/token') return void response.end(TOKEN);
      if (request.headers['x-aws-ec2-metadata-token'] !== TOKEN) return void response.writeHead(401).end();
      const value = metadata[(request.url ?? '').replace(/^\/latest\/meta-data\//, '')];
      response.writeHead(value === undefined ? 404 : 200).end(value ?? '');
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  })),
);
process.stdout.write('ready\n');
const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.AGENT_DEMO_KEEP !== '1') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1_000).unref();
}
