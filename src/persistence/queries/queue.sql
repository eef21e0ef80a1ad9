-- The generic queue operations. Templates: {placeholders} are filled per queue from the static
-- catalog (config/queue_catalog.cpp) by persistence/queue_sql.cpp; values are always bound.
-- Every claim increments the row's claim counter ({claims}), which nothing ever resets, and every
-- write after the claim is fenced on (locked_by, claims): a worker whose lease was rescued, or
-- whose row an operator requeued, can no longer change the row once it was claimed again, even
-- by the same node. Attempts only count tries; a requeue resets them.

-- name: queue_claim
-- $1 node id, $2 lease seconds, $3 most rows; nothing while the queue is paused. Returns each row's
-- new address too, where its finish looks first. The picked rows are locked, so their row
-- addresses hold until the update, which fetches them directly (a TID scan). Joined to the CTE
-- by id instead, the planner would hash a scan of the whole table when its statistics are stale.
-- The wait since due is date_part's float8: extract() computes a numeric, dearer per row.
WITH picked AS (
  SELECT ctid FROM {table}
  WHERE {status} = '{queued}' {active_filter} AND {next_attempt_at} <= now()
    AND NOT EXISTS (SELECT 1 FROM queue_controls c WHERE c.queue = '{queue}' AND c.paused)
  ORDER BY {next_attempt_at}
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS t
SET {status} = '{processing}', {attempts} = t.{attempts} + 1, {claims} = t.{claims} + 1,
    {locked_by} = $1, {lease_expires_at} = now() + make_interval(secs => $2), updated_at = now()
WHERE t.ctid = ANY(ARRAY(SELECT ctid FROM picked))
RETURNING t.id::text, t.{attempts}, t.{claims}, {payload}::text,
          date_part('epoch', clock_timestamp() - t.{next_attempt_at}), t.ctid::text

-- name: queue_next_due
SELECT extract(epoch FROM min({next_attempt_at}) - now())::float8 FROM {table}
WHERE {status} = '{queued}' {active_filter}

-- name: queue_renew
-- $1 node id, $2 lease seconds, $3 ids held; returns the rows whose cancellation was requested.
-- Rows the writer has locked are being finished: they are skipped, so that renewal and a batch
-- finish never wait on each other (a skipped row that stays held is renewed next time).
WITH held AS (
  SELECT ctid FROM {table}
  WHERE id = ANY($3::uuid[]) AND {locked_by} = $1 AND {status} = '{processing}'
  FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS t SET {lease_expires_at} = now() + make_interval(secs => $2)
WHERE t.ctid = ANY(ARRAY(SELECT ctid FROM held))
RETURNING t.id::text, {cancel_requested}

-- name: queue_next_lease_end
-- Seconds until the earliest lease of a row being worked on ends (its node renews it well before,
-- unless the node is lost): when the next rescue pass can find something.
SELECT extract(epoch FROM min({lease_expires_at}) - now())::float8 FROM {table}
WHERE {status} = '{processing}' {active_filter}

-- name: queue_rescue
-- Rows whose lease expired (their node died): back to the queue, or Error when attempts are spent.
-- $1 most rows, $2 default max attempts
WITH expired AS (
  SELECT ctid FROM {table}
  WHERE {status} = '{processing}' {active_filter} AND {lease_expires_at} < now()
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS t
SET {status} = (CASE WHEN t.{attempts} >= coalesce(t.{max_attempts}, $2) THEN '{error}'
                     ELSE '{queued}' END)::{status_type},
    {last_error} = 'lease expired: worker ' || coalesce(t.{locked_by}, '?') || ' was lost',
    {locked_by} = NULL, {lease_expires_at} = NULL, {next_attempt_at} = now(),
    updated_at = now() {on_rescue}
WHERE t.ctid = ANY(ARRAY(SELECT ctid FROM expired))
RETURNING t.id::text, t.{status}::text

-- name: queue_release
-- At shutdown, and when a queue's unit restarts: rows this node still holds go back without
-- counting the attempt.
-- $1 node
UPDATE {table}
SET {status} = '{queued}', {attempts} = greatest({attempts} - 1, 0), {locked_by} = NULL,
    {lease_expires_at} = NULL, {next_attempt_at} = now(), updated_at = now()
WHERE {locked_by} = $1 AND {status} = '{processing}' AND {lease_expires_at} IS NOT NULL
      {active_filter}
RETURNING id::text

-- name: queue_complete_many
-- The batch finishes (complete, retry, fail) find each row through the primary key and lock it
-- in a LATERAL subquery, then update it by its row address. The fence (holder, claim, still
-- processing) is checked on the locked, newest version. The forced nested loop keeps the plan
-- linear in the batch whatever the statistics say: a plain join let the planner, believing
-- almost no row is processing, scan the held rows once per item of the batch.
-- $1 ids uuid[], $2 claims bigint[], $3 node, $4 results text[] (JSON or NULL)
UPDATE {table} AS t
SET {status} = '{completed}', {locked_by} = NULL, {lease_expires_at} = NULL, {last_error} = NULL,
    updated_at = now() {on_complete}
FROM unnest($1::uuid[], $2::bigint[], $4::text[]) AS d(id, claim, result)
CROSS JOIN LATERAL (
  SELECT ctid FROM {table}
  WHERE id = d.id AND {locked_by} = $3 AND {claims} = d.claim AND {status} = '{processing}'
  LIMIT 1 FOR UPDATE) AS held
WHERE t.ctid = held.ctid
RETURNING t.id::text, t.{status}::text

-- name: queue_complete_at
-- The common finish, on engine sessions: every row at the address its claim returned, read in
-- one pass over all the batch's addresses (one TID scan: one page read per row, no primary-key
-- walk, no separate row lock, and the table's size asked once per batch, not once per item).
-- The fence (holder, claim, still processing, and the id, because an address can be reused
-- after a vacuum) filters the version at each address; the (id, claim) pairs are hashed once per
-- statement. `IS TRUE` keeps that test a filter: as a join, the planner (pricing the batch at
-- ten items) compares every row with every item. A version written meanwhile by another
-- transaction (which the update waits for) is read again and the fence checked again on it, so
-- it is finished only if the fence still holds. Sessions that price out sequential scans only
-- (configure_engine_session): priced for its real size, a batch of addresses can look dearer
-- than reading a small table whole. A row that has moved since its claim (a lease renewal, a
-- cancel request) is not found here; the caller finishes it through queue_complete_many.
-- $1 addresses tid[], $2 ids uuid[], $3 claims bigint[], $4 node, $5 results text[]
UPDATE {table} AS t
SET {status} = '{completed}', {locked_by} = NULL, {lease_expires_at} = NULL, {last_error} = NULL,
    updated_at = now() {on_complete}
WHERE t.ctid = ANY($1::tid[])
  AND ((t.id, t.{claims}) IN (SELECT * FROM unnest($2::uuid[], $3::bigint[]))) IS TRUE
  AND t.{locked_by} = $4 AND t.{status} = '{processing}'
  -- Every item has its result (checked once; a queue that keeps no result reads $5 only here).
  AND cardinality($5::text[]) = cardinality($2::uuid[])
RETURNING t.id::text, t.{status}::text

-- name: queue_complete_at_each
-- queue_complete_at through a transaction pooler, where every statement is planned for its
-- values and no session setting holds: the same fence, one address lookup per item. The items
-- come from sky_completions (017_completions_by_address.sql), which the planner prices at one
-- row, so the plan is a loop of address lookups whatever the statistics say.
-- $1 addresses tid[], $2 ids uuid[], $3 claims bigint[], $4 node, $5 results text[]
UPDATE {table} AS t
SET {status} = '{completed}', {locked_by} = NULL, {lease_expires_at} = NULL, {last_error} = NULL,
    updated_at = now() {on_complete}
FROM sky_completions($1::tid[], $2::uuid[], $3::bigint[], $5::text[]) AS d
WHERE t.ctid = d.address AND t.id = d.id AND t.{locked_by} = $4 AND t.{claims} = d.claim
  AND t.{status} = '{processing}'
RETURNING t.id::text, t.{status}::text

-- name: queue_retry_many
-- $1 ids, $2 claims bigint[], $3 node, $4 errors text[], $5 delays float8[], $6 default max attempts
UPDATE {table} AS t
SET {status} = (CASE WHEN t.{attempts} >= coalesce(t.{max_attempts}, $6) THEN '{error}'
                     ELSE '{queued}' END)::{status_type},
    {last_error} = d.error, {next_attempt_at} = now() + make_interval(secs => d.delay),
    {locked_by} = NULL, {lease_expires_at} = NULL, updated_at = now() {on_retry}
FROM unnest($1::uuid[], $2::bigint[], $4::text[], $5::float8[]) AS d(id, claim, error, delay)
CROSS JOIN LATERAL (
  SELECT ctid FROM {table}
  WHERE id = d.id AND {locked_by} = $3 AND {claims} = d.claim AND {status} = '{processing}'
  LIMIT 1 FOR UPDATE) AS held
WHERE t.ctid = held.ctid
RETURNING t.id::text, t.{status}::text

-- name: queue_fail_many
-- Failed, or (job queues) cancelled. $1 ids, $2 claims bigint[], $3 node, $4 errors text[],
-- $5 final status ('{error}' or 'Cancelled')
UPDATE {table} AS t
SET {status} = $5::{status_type}, {last_error} = d.error, {locked_by} = NULL,
    {lease_expires_at} = NULL, updated_at = now() {on_fail}
FROM unnest($1::uuid[], $2::bigint[], $4::text[]) AS d(id, claim, error)
CROSS JOIN LATERAL (
  SELECT ctid FROM {table}
  WHERE id = d.id AND {locked_by} = $3 AND {claims} = d.claim AND {status} = '{processing}'
  LIMIT 1 FOR UPDATE) AS held
WHERE t.ctid = held.ctid
RETURNING t.id::text, t.{status}::text

-- name: queue_release_orphans
-- After a reconnect: rows this node holds that its poller does not know of (a claim whose
-- answer was lost with the connection) go back at once instead of waiting for their lease.
-- $1 node, $2 ids the poller does hold (uuid[])
UPDATE {table}
SET {status} = '{queued}', {attempts} = greatest({attempts} - 1, 0), {locked_by} = NULL,
    {lease_expires_at} = NULL, {next_attempt_at} = now(), updated_at = now()
WHERE {locked_by} = $1 AND {status} = '{processing}' AND {lease_expires_at} IS NOT NULL
      {active_filter} AND NOT (id = ANY($2::uuid[]))
RETURNING id::text
