// peer.js - the Node peer of the benchmarks (issue 14): what a team would
// write in Node.js instead of ovhook-bridge, with the libraries such a team
// would pick: zeromq.js (the bus), msgpackr (the body), undici (HTTP/1.1
// keep-alive pool). It does the bridge's job in its simplest faithful form:
//   - binds a SUB on the bus and subscribes to the enabled topics;
//   - turns each message into the webhook JSON body ("event" first, then the
//     msgpack map's properties in order);
//   - POSTs it with webhook-id and webhook-timestamp, at most --workers at
//     once, one at a time per session (per-session order), retrying a
//     failed attempt (1 s back-off, 3 attempts) before giving up;
//   - stops reading the bus while --queue events wait (bounded memory).
// It is a benchmark peer, not a product: no spool, no signature, no envelope
// checks, floats are written as JavaScript writes them (674, not 674.0), and
// integers past 2^53 lose their last digits.
//
//   node peer.js --bus tcp://127.0.0.1:5560 --endpoint http://127.0.0.1:8080/hook
//                [--workers 32] [--queue 100000]
// Prints "ready:" once bound and, at SIGTERM (after delivering what it
// holds), "stopped: received N delivered D failed F".
'use strict';
const zmq = require('zeromq');
const { Unpackr } = require('msgpackr');
const { Pool } = require('undici');
const crypto = require('crypto');

const TOPICS = ['sessionCreated', 'sessionDestroyed', 'participantJoined', 'participantLeft',
    'webrtcConnectionCreated', 'webrtcConnectionDestroyed', 'recordingStatusChanged',
    'filterEventDispatched', 'signalSent', 'mediaNodeStatusChanged', 'autoscaling',
    'nodeCrashed', 'nodeRecovered', 'broadcastStarted', 'broadcastStopped'];
const KEYS = { mediaNodeStatusChanged: 'id', nodeCrashed: 'id', nodeRecovered: 'id',
    autoscaling: 'clusterId' };

function option(name, fallback) {
    const at = process.argv.indexOf('--' + name);
    return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}
const bus = option('bus', 'tcp://127.0.0.1:5560');
const endpoint = new URL(option('endpoint', 'http://127.0.0.1:8080/hook'));
const workers = Number(option('workers', '32'));
const queueMax = Number(option('queue', '100000'));
// 64-bit integers as numbers (JSON.stringify cannot write a BigInt): exact
// to 2^53, which holds every timestamp in milliseconds or microseconds
const unpackr = new Unpackr({ int64AsType: 'number' });
const pool = new Pool(endpoint.origin, { connections: workers, pipelining: 1 });
const path = endpoint.pathname + endpoint.search;

const lanes = new Map();            // session -> array of bodies waiting, in order
const ready = [];                   // sessions with events waiting and none in flight
let busy = 0, queued = 0, received = 0, delivered = 0, failed = 0, stopping = false;
let roomWaiter = null, drainWaiter = null;

function post(body) {
    return pool.request({ path, method: 'POST', body, headers: {
        'content-type': 'application/json', 'user-agent': 'ovhook-node-peer',
        'webhook-id': 'evt_' + crypto.randomUUID().replace(/-/g, ''),
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)) } })
        .then(async (response) => {
            await response.body.dump();
            if (response.statusCode >= 300)
                throw new Error('HTTP ' + response.statusCode);
        });
}

async function deliver(body) {
    for (let attempt = 1; ; attempt++) {
        try {
            await post(body);
            delivered++;
            return;
        } catch (error) {
            if (attempt === 3) {
                failed++;
                console.error('W: gave up on an event: ' + error.message);
                return;
            }
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
    }
}

// One session's events, one after another, then the next session waiting
async function work(session) {
    busy++;
    for (;;) {
        const lane = lanes.get(session);
        const body = lane.shift();
        await deliver(body);
        queued--;
        if (roomWaiter && queued < queueMax) { roomWaiter(); roomWaiter = null; }
        if (lane.length === 0) { lanes.delete(session); break; }
        if (ready.length) { ready.push(session); break; }     // fair: others first
    }
    busy--;
    if (ready.length) work(ready.shift());
    else if (drainWaiter && queued === 0) drainWaiter();
}

function accept(topic, frame) {
    const properties = unpackr.unpack(frame);
    const json = JSON.stringify(properties);
    const body = '{"event":' + JSON.stringify(topic) + (json.length > 2 ? ',' + json.slice(1) : '}');
    const session = String(properties[KEYS[topic] || 'sessionId']);
    received++;
    queued++;
    const lane = lanes.get(session);
    if (lane) { lane.push(body); return; }
    lanes.set(session, [body]);
    if (busy < workers) work(session);
    else ready.push(session);
}

async function main() {
    const socket = new zmq.Subscriber({ receiveHighWaterMark: 100000 });
    await socket.bind(bus);
    for (const topic of TOPICS) socket.subscribe(topic);
    process.on('SIGTERM', () => { stopping = true; socket.close(); });
    console.log('ready: bus ' + bus + ', endpoint ' + endpoint.href + ', ' + workers + ' workers');
    try {
        for await (const [topic, frame] of socket) {
            accept(topic.toString(), frame);
            if (queued >= queueMax) await new Promise((resolve) => { roomWaiter = resolve; });
        }
    } catch (error) {
        if (!stopping) throw error;
    }
    if (queued) await new Promise((resolve) => { drainWaiter = resolve; });
    await pool.close();
    console.log('stopped: received ' + received + ' delivered ' + delivered + ' failed ' + failed);
}

main().catch((error) => { console.error('E: ' + error.message); process.exit(1); });
