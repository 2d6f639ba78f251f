-- The outbox events each pipeline stage has handled when JetStream work queues deliver them
-- (src/distributed/pipeline-stages.ts). A row is written in the same transaction as the
-- stage's effects, so a message delivered again (a worker killed before its ack, a dead letter
-- retried) finds its row and is acked without effect.
CREATE TABLE pipeline_deliveries (
  stage text NOT NULL,
  event_seq bigint NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  -- Which process handled it ("host:pid"), for an operator following a message across workers.
  worker text NOT NULL DEFAULT '',
  PRIMARY KEY (stage, event_seq)
);
-- Rows are needed only while a message can still be delivered again (its ack lost: within a
-- few ack waits); workers forget them after a week (src/distributed/pipeline-runtime.ts).
CREATE INDEX pipeline_deliveries_by_age ON pipeline_deliveries (handled_at);
