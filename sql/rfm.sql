-- Recency, frequency and monetary value of every customer with an order in the year up to `as_of` (default: the
-- latest event in the history), with quintile scores (5 = best) and the classic RFM cells.
--   duckdb -c "SET VARIABLE as_of = TIMESTAMPTZ '2011-12-10 00:00:00+00'" -c ".read sql/events.sql" -c ".read sql/rfm.sql"
WITH as_of AS (
    SELECT coalesce(CAST(getvariable('as_of') AS TIMESTAMPTZ), max(timestamp)) AS t FROM events
), customers AS (
    SELECT resolvedId                                  AS customer,
           -- whole days since the last order, as the feature engine counts recency
           CAST(floor((epoch_ms(any_value(as_of.t)) - epoch_ms(max(timestamp))) / 86400000.0) AS BIGINT) AS recency_days,
           count(*)                                    AS orders,
           round(sum(coalesce(revenue, 0)), 2)         AS revenue
    FROM events, as_of
    WHERE event = 'order_completed' AND timestamp > as_of.t - INTERVAL 365 DAY AND timestamp <= as_of.t
    GROUP BY resolvedId
), scored AS (
    SELECT *,
           ntile(5) OVER (ORDER BY recency_days DESC, customer) AS r,
           ntile(5) OVER (ORDER BY orders, customer)            AS f,
           ntile(5) OVER (ORDER BY revenue, customer)           AS m
    FROM customers
)
SELECT customer, recency_days, orders, revenue, r, f, m,
       CASE WHEN r >= 4 AND f >= 4 THEN 'champion'
            WHEN r >= 3 AND f >= 3 THEN 'loyal'
            WHEN r <= 2 AND f >= 3 THEN 'at risk'
            WHEN r <= 2 THEN 'lapsed'
            ELSE 'promising' END AS cell
FROM scored
ORDER BY r + f + m DESC, revenue DESC, customer;
