// The grpc-js xDS client: node client.js <target> <calls> [header=value].
// Dials <target> (xds:///host:port) through @grpc/grpc-js-xds, makes <calls> unary calls (with the
// header as metadata when given), and prints one JSON line: {"calls":N,"ok":N,"byVersion":{...},"errors":{...}}.
// GRPC_XDS_BOOTSTRAP must name the bootstrap file that points at Pilot.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
require('@grpc/grpc-js-xds').register();

const [target, callsArg, headerArg] = process.argv.slice(2);
const calls = Number(callsArg);
if (!target || !Number.isInteger(calls) || calls <= 0) {
  console.error('usage: node client.js <xds:///host:port> <calls> [header=value]');
  process.exit(2);
}
const def = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), {keepCase: true});
const echo = grpc.loadPackageDefinition(def).istio4j.echo;
const client = new echo.Echo(target, grpc.credentials.createInsecure());

const metadata = new grpc.Metadata();
if (headerArg) {
  const eq = headerArg.indexOf('=');
  metadata.set(headerArg.slice(0, eq), headerArg.slice(eq + 1));
}

function call(i) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + 10000);
    client.Echo({message: `call ${i}`}, metadata, {deadline}, (err, reply) => resolve({err, reply}));
  });
}

(async () => {
  const byVersion = {};
  const errors = {};
  let ok = 0;
  // Sequential calls: the split is decided per call by the client's weighted-cluster pick.
  for (let i = 0; i < calls; i++) {
    const {err, reply} = await call(i);
    if (err) {
      const key = `${grpc.status[err.code]}: ${err.details}`;
      errors[key] = (errors[key] || 0) + 1;
    } else {
      ok++;
      byVersion[reply.version] = (byVersion[reply.version] || 0) + 1;
    }
  }
  console.log(JSON.stringify({calls, ok, header: headerArg || null, byVersion, errors}));
  client.close();
  process.exit(ok === calls ? 0 : 1);
})();
