// Runs s3rver (an S3-compatible server) on 127.0.0.1:<port> with its files
// in <dir> and one bucket, until killed. Started by test/helpers/servers.ts.
import S3rver from 's3rver';

const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({ port: Number(port), address: '127.0.0.1', directory, silent: true, configureBuckets: [{ name: bucket }] });
await server.run();
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
