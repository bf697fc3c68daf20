// A ministry integrator's client in Node, built from protos/ alone (@grpc/grpc-js + proto-loader).
// Usage: node push_batch.js <host:port> <token>
// Pushes one batch of dossiers (Vietnamese text included), prints the BatchResult as JSON on stdout,
// then repeats the same request id to show the stored answer comes back.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTOS = path.resolve(__dirname, '..', '..', 'protos');
const def = protoLoader.loadSync('chiso/ingest/v1/ingest.proto', {
  includeDirs: [PROTOS], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true,
});
const ingest = grpc.loadPackageDefinition(def).chiso.ingest.v1;

const [target, token] = process.argv.slice(2);
const client = new ingest.IngestService(target, grpc.credentials.createInsecure());
const md = new grpc.Metadata();
md.add('authorization', `Bearer ${token}`);

const ts = (iso) => { const ms = Date.parse(iso); return { seconds: Math.floor(ms / 1000), nanos: 0 }; };
const now = Date.now();
const sourceTime = { seconds: Math.floor(now / 1000) - 60, nanos: 0 };
const records = [
  {
    code: 'NODE-1', unitCode: 'H25.01', procedureCode: '1.004227', channel: 'CHANNEL_ONLINE',
    receivedTime: ts('2026-08-03T08:15:00+07:00'), dueTime: ts('2026-08-10T17:00:00+07:00'),
    processingState: 'PROCESSING_STATE_PROCESSING', digitised: true, sourceTime,
  },
  {
    code: 'NODE-2', unitCode: 'H25.01', procedureCode: '1.004227', channel: 'CHANNEL_IN_PERSON',
    receivedTime: ts('2026-08-04T09:00:00+07:00'), dueTime: ts('2026-08-11T17:00:00+07:00'),
    endTime: ts('2026-08-06T10:00:00+07:00'), endState: 'END_STATE_RESULT_RETURNED',
    electronicResult: true, rating: 'RATING_SATISFIED', sourceTime,
  },
  { code: 'NODE-3', unitCode: 'H01.01', procedureCode: '1.004227', channel: 'CHANNEL_ONLINE',
    receivedTime: ts('2026-08-04T09:00:00+07:00'), sourceTime },
];
const request = { requestId: 'node-batch-1', atomic: false, records };

client.SyncDossiers(request, md, { deadline: Date.now() + 20000 }, (err, first) => {
  if (err) { console.error(`error ${err.code}: ${err.details}`); process.exit(1); }
  client.SyncDossiers(request, md, { deadline: Date.now() + 20000 }, (err2, again) => {
    if (err2) { console.error(`error ${err2.code}: ${err2.details}`); process.exit(1); }
    process.stdout.write(JSON.stringify({ first: first.result, again: again.result }) + '\n');
    client.close();
  });
});
