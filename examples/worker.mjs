// A dlq worker loop in Node.js (node-postgres, `pg`).
//
// Claims a batch of jobs from one queue, runs each with the handler for its kind, and reports the
// outcome: dlq.complete on success, dlq.fail with the error message otherwise (retryable => false for
// errors no retry can fix). Long jobs keep their lease with dlq.heartbeat. Sleeps when the queue is empty.
//
//     npm install pg
//     DLQ_QUEUE=emails PGHOST=/var/run/postgresql PGDATABASE=app node worker.mjs
//
// Configuration (environment variables):
//     PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD   the connection (read by pg), or DLQ_DSN (a URL)
//     DLQ_QUEUE          queue to work (default "default")
//     DLQ_WORKER         this worker's name, unique among running workers (default host:pid)
//     DLQ_BATCH          jobs per claim (default 10)
//     DLQ_LEASE          lease in seconds asked at claim and at each heartbeat (default 300)
//     DLQ_IDLE_SLEEP     seconds to sleep when there is nothing to claim (default 1)
//     DLQ_EXIT_IDLE      exit after this many idle seconds (default: run until SIGINT/SIGTERM)
//     DLQ_LOG            "debug" to log every heartbeat
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const env = process.env;
const QUEUE = env.DLQ_QUEUE || 'default';
const WORKER = env.DLQ_WORKER || `${os.hostname()}:${process.pid}`;
const BATCH = Number(env.DLQ_BATCH || 10);
const LEASE = Number(env.DLQ_LEASE || 300);
const IDLE_SLEEP = Number(env.DLQ_IDLE_SLEEP || 1);
const EXIT_IDLE = env.DLQ_EXIT_IDLE ? Number(env.DLQ_EXIT_IDLE) : null;
const DEBUG = (env.DLQ_LOG || '').toLowerCase() === 'debug';

const log = (level, ...args) => console.log(new Date().toISOString(), 'dlq-worker', level, ...args);

/** An error that retrying cannot fix: the job goes to the dead letters at once (PERMANENT_FAILURE). */
export class PermanentError extends Error { name = 'PermanentError'; }
/** A temporary error with a known wait, e.g. a rate limit: retry after `seconds` (not the backoff). */
export class RetryLater extends Error {
  name = 'RetryLater';
  constructor(message, seconds) { super(message); this.seconds = seconds; }
}
/** The job is no longer ours (taken over, or moved by an operator): stop working on it. */
export class LeaseLost extends Error { name = 'LeaseLost'; }

// One connection at a time. pool.query runs each statement in its own transaction (autocommit), so a
// claim is committed, and its row locks released, before the work starts. When the connection breaks
// the call is repeated on a new one; a repeated complete or fail that already took effect returns
// false or lease_lost, which is harmless.
const pool = new pg.Pool({ connectionString: env.DLQ_DSN || undefined, max: 1 });
pool.on('error', (err) => log('WARN', `idle connection lost: ${err.message}`));

function isConnectionError(err) {
  return !err.code || /^(08|57P0|53)/.test(err.code) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT'].includes(err.code);
}

async function call(sql, args) {
  for (let delay = 0.5; ; delay = Math.min(delay * 2, 30)) {
    try {
      return (await pool.query(sql, args)).rows;
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      log('WARN', `database unavailable (${err.message}); retrying in ${delay}s`);
      await sleep(delay * 1000);
    }
  }
}

// PostgreSQL text cannot hold NUL characters (nor can jsonb strings): drop them.
const text = (value) => String(value).replaceAll('\u0000', '');

class Job {
  constructor(row) {
    this.id = row.job_id; // bigint arrives as a string; it is passed back as one
    this.kind = row.kind;
    this.payload = row.payload; // jsonb arrives parsed
    this.attempt = row.attempt;
    this.maxAttempts = row.max_attempts;
    this.extendedAt = performance.now(); // the claim gave a fresh lease
  }

  /** Extends the lease once a third of it has passed. Resolves to false when the lease is lost. */
  async heartbeat(force = false) {
    const started = performance.now();
    if (!force && started - this.extendedAt < (LEASE * 1000) / 3) return true;
    const [{ held }] = await call(
      'SELECT dlq.heartbeat($1, $2, lease => make_interval(secs => $3)) AS held', [this.id, WORKER, LEASE]);
    if (held) {
      this.extendedAt = started;
      if (DEBUG) log('DEBUG', `job ${this.id}: lease extended`);
    }
    return held;
  }

  /** For long handlers: await it often (it only talks to the database once a third of the lease has
   *  passed). Throws LeaseLost when the job is no longer ours. */
  async keepAlive() {
    if (!(await this.heartbeat())) throw new LeaseLost(`job ${this.id}: lease lost`);
  }
}

// ---- handlers: one function per job kind (replace these with your own) ---------------------------------

const HANDLERS = {
  async log(job) {
    log('INFO', `job ${job.id} says: ${job.payload.message ?? JSON.stringify(job.payload)}`);
  },
  // A long job: works in one-second steps and keeps its lease alive between them.
  async sleep(job) {
    const deadline = performance.now() + Number(job.payload.seconds ?? 1) * 1000;
    while (performance.now() < deadline) {
      await sleep(Math.min(1000, Math.max(0, deadline - performance.now())));
      await job.keepAlive();
    }
  },
  async fail(job) {
    throw new Error(job.payload.message ?? 'something went wrong');
  },
  async reject(job) {
    throw new PermanentError(job.payload.message ?? 'this job can never succeed');
  },
  async throttled(job) {
    throw new RetryLater('rate limited by the mail provider', Number(job.payload.seconds ?? 5));
  },
};

// ---- the loop ------------------------------------------------------------------------------------------

async function runJob(job) {
  try {
    const handler = Object.hasOwn(HANDLERS, job.kind) ? HANDLERS[job.kind] : null;
    if (!handler) throw new PermanentError(`no handler for job kind "${job.kind}"`);
    await handler(job);
  } catch (err) {
    if (err instanceof LeaseLost) {
      log('WARN', `job ${job.id}: lease lost while running; not reporting (someone else owns it now)`);
      return;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    const details = { exception: error.name, stack: text(error.stack ?? '').slice(-4000) };
    const [{ outcome }] = await call(
      'SELECT dlq.fail($1, $2, $3, details => $4::jsonb, retryable => $5, ' +
      'retry_in => make_interval(secs => $6)) AS outcome',
      [job.id, WORKER, text(`${error.name}: ${error.message}`), JSON.stringify(details),
        !(error instanceof PermanentError), error instanceof RetryLater ? error.seconds : null]);
    // retrying: back in the queue after the backoff; dead_lettered: see dlq.dead_letters;
    // lease_lost: someone else owns the job now, this attempt's report was discarded.
    log('INFO', `job ${job.id} (${job.kind}) failed on attempt ${job.attempt}/${job.maxAttempts}: ` +
      `${error.message} -> ${outcome}`);
    return;
  }
  const [{ done }] = await call('SELECT dlq.complete($1, $2) AS done', [job.id, WORKER]);
  if (done) {
    log('INFO', `job ${job.id} (${job.kind}) completed`);
  } else {
    // Delivery is at least once: the job was taken over (or moved) and may run again elsewhere.
    log('WARN', `job ${job.id} (${job.kind}) finished, but its lease was lost; the completion was not recorded`);
  }
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log('INFO', `${signal} received: finishing the current batch, then exiting`);
    stopping = true;
  });
}

log('INFO', `worker ${WORKER} on queue ${QUEUE} (batch ${BATCH}, lease ${LEASE}s)`);
let idleSince = performance.now();
while (!stopping) {
  const rows = await call(
    'SELECT job_id, kind, payload, attempt, max_attempts ' +
    '  FROM dlq.claim($1, $2, batch => $3, lease => make_interval(secs => $4))', [QUEUE, WORKER, BATCH, LEASE]);
  if (rows.length === 0) {
    if (EXIT_IDLE !== null && performance.now() - idleSince >= EXIT_IDLE * 1000) {
      log('INFO', `idle for ${EXIT_IDLE}s, exiting`);
      break;
    }
    await sleep(IDLE_SLEEP * 1000);
    continue;
  }
  // Every Job notes the claim's time now: built when its turn came, one that waited in the batch would
  // look freshly leased and skip the heartbeat below.
  for (const job of rows.map((row) => new Job(row))) {
    // The jobs of a batch run one after another; refresh the lease of one that waited long.
    if (!(await job.heartbeat())) {
      log('WARN', `job ${job.id}: lease lost before it started; skipping`);
      continue;
    }
    await runJob(job);
  }
  idleSince = performance.now();
}
await pool.end();
log('INFO', `worker ${WORKER} stopped`);
