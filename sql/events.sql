-- The Parquet history as one table, `events`: every unified and late event, one row each, with the date partition
-- as `dt`. The history's path is the variable `history` (default .local-run/history, where the local run writes it):
--   duckdb -c "SET VARIABLE history = '/data/history'" -c ".read sql/events.sql" -c ".read sql/rfm.sql"
-- Columns: conf/schemas/unified-event.avsc. Well-known properties are typed columns (revenue, price, quantity,
-- currency, product_id, category, order_id, items); the rest are JSON text: properties->>'plan', context->'library'.
-- Times are UTC, as the partitions and the feature engine's days are: day boundaries and intervals do not depend on
-- the machine the query runs on.
SET TimeZone = 'UTC';
CREATE OR REPLACE VIEW events AS
SELECT * REPLACE (properties::JSON AS properties, traits::JSON AS traits, context::JSON AS context)
FROM read_parquet(coalesce(getvariable('history'), '.local-run/history') || '/dt=*/*.parquet',
                  hive_partitioning = true);
