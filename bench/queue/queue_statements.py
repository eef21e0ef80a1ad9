# The page_scrape queue's claim and the forms of its finish at the claimed addresses, as
# persistence/queue_sql.cpp renders queue.sql (copied here by hand: keep them in step), for the
# one-backend scripts (finish_forms.py, statement_loop.py engine, pickup_floor.py) and for
# bench.mjs's bare pickup (`queue_statements.py json NODE` prints the session settings and the
# claim for it). Each is a PREPARE of `claim` or `fin`.
#   lateral    the fence in a LATERAL lookup, then the update's fetch by the address it returned
#              (the statement before 017_completions_by_address.sql)
#   address    the fence as the update's filter, items from sky_completions, one address lookup
#              per item (queue_complete_at_each: the one through a transaction pooler)
#   unnest     the same with a plain unnest: the plan hazard the function avoids, for comparison
#   addresses  one pass over all the addresses, the (id, claim) pairs hashed, the results by id
#              (queue_complete_at: the one on engine sessions)
#   hashjoin   one pass over all the addresses, hash-joined to the items on (address, id, claim),
#              the results read from the joined item; planned under FINISH_SETTINGS["hashjoin"]
#              (without them PostgreSQL loops over the items instead)

# The engine's session settings (persistence/queue_store.cpp, configure_engine_session).
ENGINE_SESSION = "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; SET jit = off"


def claim(node):
    return f"""PREPARE claim(int) AS WITH picked AS (
  SELECT ctid FROM jobs WHERE status = 'Queued' AND job_type = 'page_scrape' AND finished_at IS NULL
    AND next_attempt_at <= now()
    AND NOT EXISTS (SELECT 1 FROM queue_controls c WHERE c.queue = 'page_scrape' AND c.paused)
  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
UPDATE jobs AS t SET status = 'InProgress', attempts = t.attempts + 1, claims = t.claims + 1,
    locked_by = '{node}', lease_expires_at = now() + make_interval(secs => 300), updated_at = now()
WHERE t.ctid = ANY(ARRAY(SELECT ctid FROM picked))
RETURNING t.id::text, t.claims, json_build_object('job_type', t.job_type, 'params', t.params,
  'domain_id', t.domain_id)::text, date_part('epoch', clock_timestamp() - t.next_attempt_at),
  t.ctid::text"""


# How a completion reads its item's result ({result} of queue_sql.cpp): the joined item's, or in
# the one-pass form the batch's results as one object by id.
_ITEM_RESULT = "d.result::jsonb"
_RESULT_BY_ID = """(SELECT jsonb_object_agg(u.id, u.result::jsonb) FROM unnest($2::uuid[], $4::text[])
    AS u(id, result) WHERE u.result IS NOT NULL) -> t.id::text"""

_SET_COMPLETED = """SET status = 'Completed', locked_by = NULL, lease_expires_at = NULL, last_error = NULL,
    updated_at = now(), progress = 1, result_data = coalesce({result}, t.result_data),
    error = NULL, finished_at = now()"""

FORMS = ("lateral", "address", "unnest", "addresses", "hashjoin")

# Planner settings a form is planned under, on top of ENGINE_SESSION.
FINISH_SETTINGS = {"hashjoin": "SET enable_nestloop = off; SET enable_mergejoin = off"}


def finish(form, node):
    result = _RESULT_BY_ID if form == "addresses" else _ITEM_RESULT
    head = ("PREPARE fin(tid[], uuid[], bigint[], text[]) AS UPDATE jobs AS t "
            + _SET_COMPLETED.format(result=result))
    items = "unnest($1::tid[], $2::uuid[], $3::bigint[], $4::text[]) AS d(address, id, claim, result)"
    fence = (f"t.ctid = d.address AND t.id = d.id AND t.locked_by = '{node}' AND t.claims = d.claim\n"
             "  AND t.status = 'InProgress'")
    if form == "lateral":
        return f"""{head}
FROM {items}
CROSS JOIN LATERAL (
  SELECT ctid, status AS status, locked_by AS holder, claims AS claim FROM jobs
  WHERE ctid = d.address AND id = d.id AND locked_by = '{node}' AND claims = d.claim
    AND status = 'InProgress' LIMIT 1) AS held
WHERE t.ctid = held.ctid AND t.status = held.status AND t.locked_by = held.holder
  AND t.claims = held.claim
RETURNING t.id::text, t.status::text"""
    if form == "hashjoin":
        return f"""{head}
FROM {items}
WHERE t.ctid = ANY($1::tid[]) AND {fence}
  AND cardinality($4::text[]) = cardinality($2::uuid[])
RETURNING t.id::text, t.status::text"""
    if form == "addresses":
        return f"""{head}
WHERE t.ctid = ANY($1::tid[])
  AND ((t.id, t.claims) IN (SELECT * FROM unnest($2::uuid[], $3::bigint[]))) IS TRUE
  AND t.locked_by = '{node}' AND t.status = 'InProgress'
  AND cardinality($4::text[]) = cardinality($2::uuid[])
RETURNING t.id::text, t.status::text"""
    if form == "address":
        items = "sky_completions($1::tid[], $2::uuid[], $3::bigint[], $4::text[]) AS d"
    elif form != "unnest":
        raise ValueError(f"no finish form {form}; the forms: {', '.join(FORMS)}")
    return f"""{head}
FROM {items}
WHERE {fence}
RETURNING t.id::text, t.status::text"""


if __name__ == "__main__":
    import json, sys
    if len(sys.argv) != 3 or sys.argv[1] != "json":
        sys.exit("usage: queue_statements.py json NODE")
    print(json.dumps({"session": ENGINE_SESSION, "claim": claim(sys.argv[2])}))
