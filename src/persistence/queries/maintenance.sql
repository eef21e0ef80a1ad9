-- Leadership of the maintenance passes (016_maintenance_leader.sql).

-- name: maintenance_lead
-- Takes the lease when it is free or expired, or renews it when this node holds it: $1 node id,
-- $2 lease length in ms. A row back: this node leads until the lease ends.
INSERT INTO maintenance_leader AS l (id, node_id, expires_at)
VALUES (1, $1, clock_timestamp() + $2::int * interval '1 millisecond')
ON CONFLICT (id) DO UPDATE SET node_id = EXCLUDED.node_id, expires_at = EXCLUDED.expires_at
WHERE l.node_id = EXCLUDED.node_id OR l.expires_at < clock_timestamp()
RETURNING node_id

-- name: maintenance_resign
-- A node that stops hands the lease over at once: $1 node id.
DELETE FROM maintenance_leader WHERE node_id = $1

-- name: maintenance_leader_now
-- Who leads, for /api/v3/queues and the tests.
SELECT node_id, expires_at > clock_timestamp() AS live FROM maintenance_leader WHERE id = 1
