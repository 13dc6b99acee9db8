// Runs s3rver in its own process (tests/helpers/s3.ts and the demo start it), so the server's CPU
// work never competes with the code under test and its listing works past 1,000 keys
// (the parent passes NODE_OPTIONS=--openssl-legacy-provider: s3rver encrypts continuation tokens with DES).
// argv: PORT DIRECTORY BUCKET...   Prints "ready PORT" once it listens.
import S3rver from 's3rver';

const [port, directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
await server.run();
process.stdout.write(`ready ${port}\n`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// A test runner that crashed never kills its servers: notice being orphaned and leave too
// (unless AGENT_DEMO_KEEP=1: `tests/demo/run-demo.sh --keep` leaves it up on purpose, with its stop command).
if (process.env.AGENT_DEMO_KEEP !== '1') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1_000).unref();
}
