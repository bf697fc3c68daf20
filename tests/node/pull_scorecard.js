// The national portal's side in Node, built from protos/ alone (@grpc/grpc-js + proto-loader):
// a unit's scorecard for a month from scoring (GetScorecard) and the first page of publish's change
// feed (ListChanges). Usage: node pull_scorecard.js <scoring host:port> <publish host:port> <unit> <year> <month>
// Prints {"scorecard": …, "changes": […]} as JSON on stdout.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTOS = path.resolve(__dirname, '..', '..', 'protos');
const load = (file) => grpc.loadPackageDefinition(protoLoader.loadSync(file, {
  includeDirs: [PROTOS], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true,
}));
const scoringPkg = load('chiso/scoring/v1/scoring.proto').chiso.scoring.v1;
const publishPkg = load('chiso/publish/v1/publish.proto').chiso.publish.v1;

const [scoringTarget, publishTarget, unitCode, year, month] = process.argv.slice(2);
const scoring = new scoringPkg.ScoringService(scoringTarget, grpc.credentials.createInsecure());
const publish = new publishPkg.PublishService(publishTarget, grpc.credentials.createInsecure());
const deadline = () => ({ deadline: Date.now() + 20000 });
const fail = (err) => { console.error(`error ${err.code}: ${err.details}`); process.exit(1); };

const period = { kind: 'PERIOD_KIND_MONTH', year: Number(year), number: Number(month) };
scoring.GetScorecard({ unitCode, period }, deadline(), (err, res) => {
  if (err) fail(err);
  publish.ListChanges({ pageSize: 100 }, deadline(), (err2, feed) => {
    if (err2) fail(err2);
    process.stdout.write(JSON.stringify({ scorecard: res.scorecard, changes: feed.changes }) + '\n');
    scoring.close();
    publish.close();
  });
});
