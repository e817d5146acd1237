// An Echo backend: node server.js <version> <port> [host, default 127.0.0.1]. Answers with its version.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [version, port, host = '127.0.0.1'] = process.argv.slice(2);
if (!version || !port) {
  console.error('usage: node server.js <version> <port> [host]');
  process.exit(2);
}
const def = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), {keepCase: true});
const echo = grpc.loadPackageDefinition(def).istio4j.echo;

const server = new grpc.Server();
server.addService(echo.Echo.service, {
  Echo: (call, callback) => callback(null, {message: call.request.message, version}),
});
server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(`echo ${version}: cannot bind ${host}:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`echo ${version} listening on ${host}:${port}`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
