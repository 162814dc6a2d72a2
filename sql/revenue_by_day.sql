-- Orders, revenue, refunds and buying customers by day (event date, UTC).
SELECT dt                                                                      AS day,
       count(*) FILTER (WHERE event = 'order_completed')                       AS orders,
       round(coalesce(sum(revenue) FILTER (WHERE event = 'order_completed'), 0), 2) AS revenue,
       round(coalesce(sum(revenue) FILTER (WHERE event = 'order_refunded'), 0), 2)  AS refunded,
       count(DISTINCT resolvedId) FILTER (WHERE event = 'order_completed')     AS customers
FROM events
WHERE event IN ('order_completed', 'order_refunded')
GROUP BY dt
ORDER BY dt;
