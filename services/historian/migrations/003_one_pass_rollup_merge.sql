-- The rollup merge, in one pass. Every round of the historian merges each
-- strategy's 1-minute and 1-hour rollup rows (ON CONFLICT DO UPDATE) with
-- qm_merge_least and qm_merge_greatest; measured, those two calls were two
-- thirds of PostgreSQL's ~250 µs per merged row, and the merges the bulk
-- of its CPU when the historian keeps up with the pipeline (many small
-- rounds, each touching every active strategy). The first versions listed
-- both objects' keys (UNION), then looked each key up in both; these walk
-- both objects once (a full join of jsonb_each) with the same answer: per
-- key the least (greatest) of the two as float8 when both have it, else
-- the one value there is.
CREATE OR REPLACE FUNCTION qm_merge_least(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(coalesce(x.key, y.key), CASE
      WHEN y.key IS NULL THEN x.value
      WHEN x.key IS NULL THEN y.value
      ELSE to_jsonb(least((x.value #>> '{}')::float8, (y.value #>> '{}')::float8)) END), '{}'::jsonb)
  FROM jsonb_each(a) AS x FULL JOIN jsonb_each(b) AS y ON x.key = y.key
$$;
CREATE OR REPLACE FUNCTION qm_merge_greatest(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(coalesce(x.key, y.key), CASE
      WHEN y.key IS NULL THEN x.value
      WHEN x.key IS NULL THEN y.value
      ELSE to_jsonb(greatest((x.value #>> '{}')::float8, (y.value #>> '{}')::float8)) END), '{}'::jsonb)
  FROM jsonb_each(a) AS x FULL JOIN jsonb_each(b) AS y ON x.key = y.key
$$;
