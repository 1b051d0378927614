-- The incident behind README "## On call", played through dlq's public API only (create_queue,
-- enqueue, enqueue_many, claim, complete, fail, sweep) on a fresh database where CREATE EXTENSION dlq has
-- just run. Run as a superuser (or a login with dlq_admin, dlq_producer and dlq_worker, plus CREATE on the
-- database for the simulation's own schema), with no background sweeper (dlq.enabled = off):
--   psql -X -q -v ON_ERROR_STOP=1 -f oncall_incident.sql
-- It takes about 20 seconds. What it leaves, as README's session then finds it:
--   queue billing (4 attempts, backoff from 2 s), 59 dead letters:
--     53 billing.charge   RETRIES_EXHAUSTED  timeout after 10s/30s calling https://pay.example.com/charges/<id>, six tenants
--      3 billing.charge   PERMANENT_FAILURE  card declined: insufficient funds (code 51), two tenants
--      2 billing.invoice  PERMANENT_FAILURE  template "invoice-eu-v3" not found in bucket pdf-templates, one tenant
--      1 billing.refund   STUCK_IN_PROGRESS  lease expired (its worker died; dlq.sweep() found it)
--     (4 more charges went through)
--   queue emails (recovery window 20 s), 1 dead letter: a greylisted receipt, UNRECOVERED_ERROR (dlq.sweep());
--     7 more receipts were delivered.
-- Ids, in the order the README's session expects them: jobs 1-60 are the charges, 61-62 the invoices, 63
-- the refund, 64-71 the receipts (so a replay of the 53 timeouts makes jobs 72-124); dead letters 1-5 are
-- the declined cards and the invoices, 6-58 the timeouts (58 the last one), 59-60 the sweep's two.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- The simulation's own state, outside dlq: the payment provider's answers and the workers' loop.
DROP SCHEMA IF EXISTS oncall CASCADE;
CREATE SCHEMA oncall;

-- 60 charges for six tenants (ten each). The provider is down: every call times out, except for four
-- charges that go through and three cards it declines (of two tenants, hooli and umbrella).
CREATE TABLE oncall.charge AS
SELECT i,
       (1048000 + (i * 4099) % 1000)::text AS charge_id,
       (ARRAY['acme', 'globex', 'initech', 'umbrella', 'hooli', 'soylent'])[1 + i % 6] AS tenant,
       'cus_' || (7000 + (i * 379) % 1000) AS customer,
       1000 + (i * 7919) % 24000 AS amount_cents,
       CASE WHEN i % 5 = 0 THEN 'USD' ELSE 'EUR' END AS currency,
       CASE WHEN i IN (9, 22, 38, 51) THEN 'ok'
            WHEN i IN (4, 16, 33) THEN 'declined'
            ELSE 'timeout' END AS outcome
  FROM generate_series(1, 60) AS i;
ALTER TABLE oncall.charge ADD PRIMARY KEY (charge_id);

-- The greylisted receipt's first failure (the sweep gives up on it 20 s later).
CREATE TABLE oncall.greylist (address text PRIMARY KEY, first_failure timestamptz);
INSERT INTO oncall.greylist VALUES ('ap@initech.example', NULL);

\echo == queues
SELECT dlq.create_queue('billing', max_attempts => 4, lease => '5 seconds',
                        backoff_base => '2 seconds', backoff_max => '1 minute');
SELECT dlq.create_queue('emails', max_attempts => 10, recovery_window => '20 seconds',
                        backoff_base => '4 seconds', backoff_max => '8 seconds');

\echo == jobs: 60 charges, 2 invoices, 1 refund (one attempt only), 8 receipts
SELECT count(*) AS charges
  FROM dlq.enqueue_many('billing', (
         SELECT jsonb_agg(jsonb_build_object(
                  'kind', 'billing.charge', 'tenant', c.tenant,
                  'payload', jsonb_build_object('charge_id', c.charge_id, 'customer', c.customer,
                                                'amount_cents', c.amount_cents, 'currency', c.currency))
                ORDER BY c.i)
           FROM oncall.charge AS c));
SELECT dlq.enqueue('billing', 'billing.invoice',
                   '{"invoice": "INV-2026-11-0412", "template": "invoice-eu-v3", "customer": "cus_7311"}',
                   tenant => 'globex') AS invoice_1,
       dlq.enqueue('billing', 'billing.invoice',
                   '{"invoice": "INV-2026-11-0413", "template": "invoice-eu-v3", "customer": "cus_7042"}',
                   tenant => 'globex') AS invoice_2;
SELECT dlq.enqueue('billing', 'billing.refund',
                   '{"refund_id": "re_3391", "charge_id": "1047711", "amount_cents": 4999, "currency": "EUR"}',
                   max_attempts => 1, tenant => 'umbrella') AS refund;
SELECT count(*) AS receipts
  FROM dlq.enqueue_many('emails', (
         SELECT jsonb_agg(jsonb_build_object(
                  'kind', 'email.receipt', 'tenant', t.tenant,
                  'payload', jsonb_build_object('to', t.address, 'order', 5100 + t.n, 'template', 'receipt_v2'))
                ORDER BY t.n)
           FROM (VALUES (1, 'acme', 'billing@acme.example'), (2, 'globex', 'finance@globex.example'),
                        (3, 'initech', 'ap@initech.example'), (4, 'umbrella', 'accounts@umbrella.example'),
                        (5, 'hooli', 'ap@hooli.example'), (6, 'soylent', 'billing@soylent.example'),
                        (7, 'acme', 'finance@acme.example'), (8, 'globex', 'ap@globex.example'))
                AS t (n, tenant, address)));

-- The workers: three billing workers (host:pid) and one mailer, each claiming one job at a time in its
-- own transaction (committed before the work, as the delivery contract asks) and reporting it in another.
-- Every tick, each billing worker takes up to four jobs; then the mailer takes what is due; then 0.3 s of
-- sleep. The worker that claims the refund dies on it (it is never reported; its lease runs out) and comes
-- back as a new process. The loop ends once billing has nothing left but that refund and the greylisted
-- receipt has been failing for longer than its queue's recovery window.
CREATE PROCEDURE oncall.play()
LANGUAGE plpgsql
AS $$
DECLARE
	v_workers text[] := ARRAY['billing-1:41000', 'billing-2:41001', 'billing-3:41002'];
	v_next_pid integer := 41003;
	v_job record;
	v_got boolean;
	v_charge oncall.charge;
	v_timeout integer;
	v_status text;
	v_first_failure timestamptz;
	v_billing_live bigint;
	v_ticks integer := 0;
BEGIN
	LOOP
		v_ticks := v_ticks + 1;
		FOR w IN 1 .. 3 LOOP
			FOR k IN 1 .. 4 LOOP
				SELECT * INTO v_job FROM dlq.claim('billing', v_workers[w]);
				v_got := FOUND;
				COMMIT;
				EXIT WHEN NOT v_got;
				v_status := NULL;
				IF v_job.kind = 'billing.charge' THEN
					SELECT * INTO STRICT v_charge FROM oncall.charge AS c WHERE c.charge_id = v_job.payload->>'charge_id';
					IF v_charge.outcome = 'ok' THEN
						IF NOT dlq.complete(v_job.job_id, v_workers[w]) THEN
							RAISE EXCEPTION 'complete of job % lost its lease', v_job.job_id;
						END IF;
					ELSIF v_charge.outcome = 'declined' THEN
						v_status := dlq.fail(v_job.job_id, v_workers[w], 'card declined: insufficient funds (code 51)',
						                     details => '{"http_status": 402, "decline_code": "insufficient_funds"}',
						                     retryable => false);
					ELSE
						-- The workers wait 10 s for the provider on the first two attempts, 30 s after.
						v_timeout := CASE WHEN v_job.attempt <= 2 THEN 10 ELSE 30 END;
						v_status := dlq.fail(v_job.job_id, v_workers[w],
						                     format('timeout after %ss calling https://pay.example.com/charges/%s',
						                            v_timeout, v_charge.charge_id),
						                     details => jsonb_build_object('timeout_s', v_timeout));
					END IF;
				ELSIF v_job.kind = 'billing.invoice' THEN
					v_status := dlq.fail(v_job.job_id, v_workers[w],
					                     format('template "%s" not found in bucket pdf-templates', v_job.payload->>'template'),
					                     details => '{"bucket": "pdf-templates"}', retryable => false);
				ELSIF v_job.kind = 'billing.refund' THEN
					-- The worker process dies on it; its supervisor starts a new one.
					v_workers[w] := format('billing-%s:%s', w, v_next_pid);
					v_next_pid := v_next_pid + 1;
					EXIT;
				ELSE
					RAISE EXCEPTION 'unexpected job kind %', v_job.kind;
				END IF;
				IF v_status = 'lease_lost' THEN
					RAISE EXCEPTION 'fail of job % lost its lease', v_job.job_id;
				END IF;
				COMMIT;
			END LOOP;
		END LOOP;

		LOOP
			SELECT * INTO v_job FROM dlq.claim('emails', 'mailer-1:42000');
			v_got := FOUND;
			COMMIT;
			EXIT WHEN NOT v_got;
			IF EXISTS (SELECT 1 FROM oncall.greylist AS g WHERE g.address = v_job.payload->>'to') THEN
				v_status := dlq.fail(v_job.job_id, 'mailer-1:42000',
				                     format('451 4.7.1 <%s>: Recipient address rejected: greylisted, try again later',
				                            v_job.payload->>'to'),
				                     details => '{"smtp_code": 451}');
				IF v_status <> 'retrying' THEN
					RAISE EXCEPTION 'greylisted receipt: fail returned %', v_status;
				END IF;
				UPDATE oncall.greylist AS g SET first_failure = coalesce(g.first_failure, now())
				 WHERE g.address = v_job.payload->>'to';
			ELSIF NOT dlq.complete(v_job.job_id, 'mailer-1:42000') THEN
				RAISE EXCEPTION 'complete of job % lost its lease', v_job.job_id;
			END IF;
			COMMIT;
		END LOOP;

		SELECT s.available + s.scheduled + s.running INTO v_billing_live FROM dlq.queue_stats AS s WHERE s.queue = 'billing';
		SELECT g.first_failure INTO v_first_failure FROM oncall.greylist AS g;
		EXIT WHEN v_billing_live = 1 AND v_first_failure < clock_timestamp() - interval '21 seconds';
		IF v_ticks > 1000 THEN
			RAISE EXCEPTION 'the incident did not settle (% billing jobs still live)', v_billing_live;
		END IF;
		COMMIT;
		PERFORM pg_sleep(0.3);
	END LOOP;
	COMMIT;
END
$$;

\echo == the outage (about 20 s)
CALL oncall.play();

\echo == the sweep: the refund whose worker died, and the receipt past its recovery window
SELECT outcome, count FROM dlq.sweep() ORDER BY outcome;

\echo == what the incident left
SELECT queue, kind, reason, count(*) AS dead_letters, count(DISTINCT tenant) AS tenants,
       min(id) AS first_id, max(id) AS last_id
  FROM dlq.dead_letters GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats ORDER BY queue;
