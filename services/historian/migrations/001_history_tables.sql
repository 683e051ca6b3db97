-- quantmon history, first schema. Times are epoch milliseconds (bigint), as
-- on the streams: `at` is the stream entry's write time (its id's first
-- part), `ts` the data's own time. (part, entry_id) names the stream entry
-- that carried a row: unique, so a redelivered entry never makes a second row.
-- Time series are range-partitioned on `at` (rollups on `bucket`); the
-- historian creates the partitions and retention drops them.

CREATE TABLE strategy_samples (
  at bigint NOT NULL,
  part integer NOT NULL,
  entry_id text NOT NULL,
  strategy text NOT NULL,
  ts bigint NOT NULL,
  ret double precision NOT NULL,
  benchmark_return double precision,
  equity double precision,
  sample_id text,
  data jsonb NOT NULL,
  PRIMARY KEY (at, part, entry_id)
) PARTITION BY RANGE (at);
CREATE INDEX strategy_samples_strategy_ts ON strategy_samples (strategy, ts);

CREATE TABLE score_updates (
  at bigint NOT NULL,
  part integer NOT NULL,
  entry_id text NOT NULL,
  strategy text NOT NULL,
  ts bigint NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (at, part, entry_id)
) PARTITION BY RANGE (at);
CREATE INDEX score_updates_strategy_at ON score_updates (strategy, at);
CREATE INDEX score_updates_strategy_ts ON score_updates (strategy, ts);

CREATE TABLE system_samples (
  at bigint NOT NULL,
  part integer NOT NULL,
  entry_id text NOT NULL,
  host text NOT NULL,
  ts bigint NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (at, part, entry_id)
) PARTITION BY RANGE (at);
CREATE INDEX system_samples_host_at ON system_samples (host, at);
CREATE INDEX system_samples_host_ts ON system_samples (host, ts);

-- Rollups: per subject and bucket, the last entry (by write time, then
-- partition and sequence) and the least and greatest value per numeric field.
-- Merging is idempotent (least/greatest/latest), so a redelivered entry or two
-- historians writing the same bucket leave the same row.
CREATE TABLE score_rollup_1m (
  bucket bigint NOT NULL,
  subject text NOT NULL,
  last_at bigint NOT NULL,
  last_part integer NOT NULL,
  last_seq bigint NOT NULL,
  last jsonb NOT NULL,
  min jsonb NOT NULL,
  max jsonb NOT NULL,
  PRIMARY KEY (subject, bucket)
) PARTITION BY RANGE (bucket);
CREATE TABLE score_rollup_1h (LIKE score_rollup_1m INCLUDING ALL) PARTITION BY RANGE (bucket);
CREATE TABLE system_rollup_1m (LIKE score_rollup_1m INCLUDING ALL) PARTITION BY RANGE (bucket);
CREATE TABLE system_rollup_1h (LIKE score_rollup_1m INCLUDING ALL) PARTITION BY RANGE (bucket);

-- The audit trail: kept without expiry, so not partitioned.
CREATE TABLE alert_events (
  at bigint NOT NULL,
  part integer NOT NULL,
  entry_id text NOT NULL,
  incident_id text NOT NULL,
  rule text NOT NULL,
  level text NOT NULL,
  subject text NOT NULL,
  state text NOT NULL,
  ts bigint NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (part, entry_id)
);
CREATE INDEX alert_events_ts ON alert_events (ts);
CREATE INDEX alert_events_at ON alert_events (at);
CREATE INDEX alert_events_subject_ts ON alert_events (subject, ts);

CREATE TABLE audit_events (
  entry_id text PRIMARY KEY,
  at bigint NOT NULL,
  event_at bigint NOT NULL,
  kind text NOT NULL,
  actor text NOT NULL,
  data jsonb NOT NULL
);
CREATE INDEX audit_events_event_at ON audit_events (event_at);

-- Per-key least / greatest of two flat {name: number} objects.
CREATE FUNCTION qm_merge_least(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(k, CASE
      WHEN a ? k AND b ? k THEN to_jsonb(least((a ->> k)::float8, (b ->> k)::float8))
      WHEN a ? k THEN a -> k ELSE b -> k END), '{}'::jsonb)
  FROM (SELECT jsonb_object_keys(a) AS k UNION SELECT jsonb_object_keys(b)) AS keys
$$;
CREATE FUNCTION qm_merge_greatest(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(k, CASE
      WHEN a ? k AND b ? k THEN to_jsonb(greatest((a ->> k)::float8, (b ->> k)::float8))
      WHEN a ? k THEN a -> k ELSE b -> k END), '{}'::jsonb)
  FROM (SELECT jsonb_object_keys(a) AS k UNION SELECT jsonb_object_keys(b)) AS keys
$$;
