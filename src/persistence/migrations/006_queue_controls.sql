-- Operator controls shared by every node. A paused queue claims nothing (the claim itself reads
-- this table, so a pause holds on every node at once); work already claimed runs to its end.
CREATE TABLE queue_controls (
    queue       text PRIMARY KEY,
    paused      boolean NOT NULL DEFAULT false,
    changed_by  text,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- Resuming wakes the queue's pollers on every node, as a newly queued row would.
CREATE FUNCTION sky_notify_queue_resumed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT NEW.paused THEN
    PERFORM pg_notify('sky_queue', NEW.queue);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER queue_controls_resumed_notify AFTER INSERT OR UPDATE ON queue_controls
  FOR EACH ROW EXECUTE FUNCTION sky_notify_queue_resumed();
