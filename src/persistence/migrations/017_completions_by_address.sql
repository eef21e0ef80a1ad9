-- The items of a finish at the claimed addresses (queries/queue.sql, queue_complete_at), as a
-- row source the planner prices at one row. Joined to the queue's table by address, the fenced
-- update then always reads each row once, by its address. Over a plain unnest the planner prices
-- the batch at its real size (a hundred rows in a generic plan), and with statistics that have
-- never seen a processing row it judges one pass over the whole table cheaper than that many
-- address lookups, then compares every row it finds with every item. STRICT keeps the function
-- from being inlined, which would bring unnest's estimate back.
CREATE OR REPLACE FUNCTION sky_completions(addresses tid[], ids uuid[], claims bigint[],
                                           results text[])
RETURNS TABLE (address tid, id uuid, claim bigint, result text)
LANGUAGE sql IMMUTABLE STRICT ROWS 1
AS $$ SELECT * FROM unnest(addresses, ids, claims, results) $$;
