#!/usr/bin/env python3
"""A dlq worker loop in Python (psycopg2).

Claims a batch of jobs from one queue, runs each with the handler for its kind, and reports the outcome:
dlq.complete on success, dlq.fail with the error message otherwise (retryable => false for errors no
retry can fix). Long jobs keep their lease with dlq.heartbeat. Sleeps when the queue is empty.

    apt-get install python3-psycopg2        # or: pip install psycopg2-binary
    DLQ_QUEUE=emails PGHOST=/var/run/postgresql PGDATABASE=app python3 worker.py

Configuration (environment variables):
    DLQ_DSN            libpq connection string; empty (default) = the PG* environment variables
    DLQ_QUEUE          queue to work (default "default")
    DLQ_WORKER         this worker's name, unique among running workers (default host:pid)
    DLQ_BATCH          jobs per claim (default 10)
    DLQ_LEASE          lease in seconds asked at claim and at each heartbeat (default 300)
    DLQ_IDLE_SLEEP     seconds to sleep when there is nothing to claim (default 1)
    DLQ_EXIT_IDLE      exit after this many idle seconds (default: run until SIGINT/SIGTERM)
    DLQ_LOG            log level (default INFO)
"""
import json
import logging
import os
import signal
import socket
import time
import traceback

import psycopg2
import psycopg2.extras

log = logging.getLogger("dlq-worker")


class PermanentError(Exception):
    """An error that retrying cannot fix: the job goes to the dead letters at once (PERMANENT_FAILURE)."""


class RetryLater(Exception):
    """A temporary error with a known wait, e.g. a rate limit: retry after `seconds` (not the backoff)."""

    def __init__(self, message, seconds):
        super().__init__(message)
        self.seconds = seconds


class LeaseLost(Exception):
    """The job is no longer ours (taken over, or moved by an operator): stop working on it."""


class Database:
    """One autocommit connection: every dlq call is its own transaction, so a claim is committed (and
    its row locks released) before the work starts. Reconnects, and repeats the call, when the
    connection breaks; a repeated complete or fail that already took effect returns false or
    lease_lost, which is harmless."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = None

    def call(self, sql, args):
        delay = 0.5
        while True:
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg2.connect(self.dsn)
                    self.conn.autocommit = True
                with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    cur.execute(sql, args)
                    return cur.fetchall()
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
                log.warning("database unavailable (%s); retrying in %.1fs", " ".join(str(e).split()), delay)
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(delay)
                delay = min(delay * 2, 30)


class Job:
    def __init__(self, db, worker, lease, row):
        self.db, self.worker, self.lease = db, worker, lease
        self.id = row["job_id"]
        self.kind = row["kind"]
        self.payload = row["payload"]  # jsonb arrives as Python objects
        self.attempt = row["attempt"]
        self.max_attempts = row["max_attempts"]
        self.extended_at = time.monotonic()  # the claim gave a fresh lease

    def heartbeat(self, force=False):
        """Extends the lease once a third of it has passed. Returns False when the lease is lost."""
        started = time.monotonic()
        if not force and started - self.extended_at < self.lease / 3:
            return True
        held = self.db.call("SELECT dlq.heartbeat(%s, %s, lease => make_interval(secs => %s)) AS held",
                            (self.id, self.worker, self.lease))[0]["held"]
        if held:
            self.extended_at = started
            log.debug("job %s: lease extended", self.id)
        return held

    def keep_alive(self):
        """For long handlers: call it often (every few seconds is fine; it only talks to the database
        once a third of the lease has passed). Raises LeaseLost when the job is no longer ours."""
        if not self.heartbeat():
            raise LeaseLost(f"job {self.id}: lease lost")


# ---- handlers: one function per job kind (replace these with your own) --------------------------------

def handle_log(job):
    log.info("job %s says: %s", job.id, job.payload.get("message", job.payload))


def handle_sleep(job):
    """A long job: works in one-second steps and keeps its lease alive between them."""
    deadline = time.monotonic() + float(job.payload.get("seconds", 1))
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        job.keep_alive()


def handle_fail(job):
    raise RuntimeError(job.payload.get("message", "something went wrong"))


def handle_reject(job):
    raise PermanentError(job.payload.get("message", "this job can never succeed"))


def handle_throttled(job):
    raise RetryLater("rate limited by the mail provider", float(job.payload.get("seconds", 5)))


HANDLERS = {"log": handle_log, "sleep": handle_sleep, "fail": handle_fail, "reject": handle_reject,
            "throttled": handle_throttled}


# ---- the loop -----------------------------------------------------------------------------------------

def text(value):
    """PostgreSQL text cannot hold NUL characters (nor can jsonb strings): drop them."""
    return str(value).replace("\x00", "")


def run_job(db, job):
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise PermanentError(f"no handler for job kind {job.kind!r}")
        handler(job)
    except LeaseLost:
        log.warning("job %s: lease lost while running; not reporting (someone else owns it now)", job.id)
        return
    except Exception as e:  # noqa: BLE001 - every failure is reported to the queue
        retryable = not isinstance(e, PermanentError)
        retry_in = e.seconds if isinstance(e, RetryLater) else None
        details = {"exception": type(e).__name__, "traceback": text(traceback.format_exc(limit=10))[-4000:]}
        outcome = db.call(
            "SELECT dlq.fail(%s, %s, %s, details => %s::jsonb, retryable => %s,"
            " retry_in => make_interval(secs => %s)) AS outcome",
            (job.id, job.worker, text(f"{type(e).__name__}: {e}"), json.dumps(details), retryable, retry_in),
        )[0]["outcome"]
        # retrying: back in the queue after the backoff; dead_lettered: see dlq.dead_letters;
        # lease_lost: someone else owns the job now, this attempt's report was discarded.
        log.info("job %s (%s) failed on attempt %s/%s: %s -> %s",
                 job.id, job.kind, job.attempt, job.max_attempts, e, outcome)
        return
    done = db.call("SELECT dlq.complete(%s, %s) AS done", (job.id, job.worker))[0]["done"]
    if done:
        log.info("job %s (%s) completed", job.id, job.kind)
    else:
        # Delivery is at least once: the job was taken over (or moved) and may run again elsewhere.
        log.warning("job %s (%s) finished, but its lease was lost; the completion was not recorded",
                    job.id, job.kind)


def main():
    logging.basicConfig(level=os.environ.get("DLQ_LOG", "INFO").upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    queue = os.environ.get("DLQ_QUEUE", "default")
    worker = os.environ.get("DLQ_WORKER") or f"{socket.gethostname()}:{os.getpid()}"
    batch = int(os.environ.get("DLQ_BATCH", "10"))
    lease = float(os.environ.get("DLQ_LEASE", "300"))
    idle_sleep = float(os.environ.get("DLQ_IDLE_SLEEP", "1"))
    exit_idle = float(os.environ["DLQ_EXIT_IDLE"]) if os.environ.get("DLQ_EXIT_IDLE") else None

    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        log.info("%s received: finishing the current batch, then exiting", signal.Signals(signum).name)
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    db = Database(os.environ.get("DLQ_DSN", ""))
    log.info("worker %s on queue %s (batch %d, lease %gs)", worker, queue, batch, lease)
    idle_since = time.monotonic()
    while not stopping:
        rows = db.call("SELECT job_id, kind, payload, attempt, max_attempts"
                       "  FROM dlq.claim(%s, %s, batch => %s, lease => make_interval(secs => %s))",
                       (queue, worker, batch, lease))
        if not rows:
            if exit_idle is not None and time.monotonic() - idle_since >= exit_idle:
                log.info("idle for %gs, exiting", exit_idle)
                break
            time.sleep(idle_sleep)
            continue
        # Every Job notes the claim's time now: built when its turn came, one that waited in the batch
        # would look freshly leased and skip the heartbeat below.
        for job in [Job(db, worker, lease, row) for row in rows]:
            # The jobs of a batch run one after another; refresh the lease of one that waited long.
            if not job.heartbeat():
                log.warning("job %s: lease lost before it started; skipping", job.id)
                continue
            run_job(db, job)
        idle_since = time.monotonic()
    log.info("worker %s stopped", worker)


if __name__ == "__main__":
    main()
