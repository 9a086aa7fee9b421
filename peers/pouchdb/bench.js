// PouchDB 9 <-> express-pouchdb: a cold replication of the records the
// Sanjian sync bench's (a) synced (one JSON record per line, `_id` set),
// server and client in separate processes on loopback, as Sanjian's bench
// runs them. Run by scripts/bench-pouchdb.sh right after the Rust bench,
// so that both figures come from the same run on the same machine.
//
//     node bench.js <records.jsonl>
//
// Prints wall time and records/s for PouchDB's default batch size (100)
// and for batches of 1,000, the server's and the client's CPU time, and
// the client's peak RSS.

'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const PouchDB = require('pouchdb');

function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / tick;
}

function peakRssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : 0;
}

function readRecords(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

// The server: loads the records into a LevelDB-backed PouchDB, then serves
// it with express-pouchdb and prints its port.
async function serve(dir, file) {
  const express = require('express');
  const Server = PouchDB.defaults({ prefix: dir + path.sep });
  const db = new Server('county');
  const records = readRecords(file);
  for (let i = 0; i < records.length; i += 1000) {
    await db.bulkDocs(records.slice(i, i + 1000));
  }
  const app = express();
  app.use('/', require('express-pouchdb')(Server, { mode: 'minimumForPouchDB', logPath: path.join(dir, 'log.txt') }));
  const listener = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: listener.address().port, docs: records.length }) + '\n');
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

async function replicate(url, dir, name, options) {
  const local = new PouchDB(path.join(dir, name));
  const started = process.hrtime.bigint();
  const result = await local.replicate.from(url, options);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const info = await local.info();
  await local.close();
  return { seconds, docs: info.doc_count, ok: result.ok };
}

async function drive(file) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sanjian-pouchdb-'));
  try {
    const child = spawn(process.execPath, [__filename, '--serve', dir, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    const first = await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]));
      });
      child.on('exit', (code) => reject(new Error(`the server stopped (${code})`)));
    });
    const url = `http://127.0.0.1:${first.port}/county`;
    console.log(`PouchDB ${require('pouchdb/package.json').version} <-> express-pouchdb, ${first.docs} records`);
    for (const [label, options] of [
      ['default batches (100)', {}],
      ['batches of 1,000', { batch_size: 1000 }],
    ]) {
      const serverBefore = cpuSeconds(child.pid);
      const meBefore = cpuSeconds(process.pid);
      const r = await replicate(url, dir, `client-${options.batch_size || 100}`, options);
      const serverCpu = cpuSeconds(child.pid) - serverBefore;
      const meCpu = cpuSeconds(process.pid) - meBefore;
      if (r.docs !== first.docs || !r.ok) {
        throw new Error(`replicated ${r.docs} of ${first.docs}`);
      }
      console.log(
        `  cold replication, ${label}: ${r.seconds.toFixed(2)} s, ${Math.round(r.docs / r.seconds)} records/s ` +
          `(CPU: server ${serverCpu.toFixed(2)} s, client ${meCpu.toFixed(2)} s)`,
      );
    }
    console.log(`  client peak RSS ${peakRssMiB(process.pid).toFixed(1)} MiB`);
    child.stdin.end();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3], process.argv[4]).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  drive(process.argv[2]).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
