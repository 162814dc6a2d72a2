-- Who the nightly training scores as of `as_of` (default: the latest event in the history): everyone with an
-- activity event (conf/features.yaml activityEvents) in the 365 days up to it, the --lookback of the training. Split
-- by how long ago their last activity was: the lapsing ones are the customers a retention campaign is for.
WITH as_of AS (
    SELECT coalesce(CAST(getvariable('as_of') AS TIMESTAMPTZ), max(timestamp)) AS t FROM events
), last_active AS (
    SELECT resolvedId, max(timestamp) AS last_seen, any_value(as_of.t) AS t
    FROM events, as_of
    WHERE event IN ('page_view', 'product_view', 'product_search', 'add_to_cart', 'checkout_started',
                    'order_completed', 'feature_used')
      AND timestamp > as_of.t - INTERVAL 365 DAY AND timestamp <= as_of.t
    GROUP BY resolvedId
)
SELECT CASE WHEN last_seen > t - INTERVAL 30 DAY THEN 'a: active in the last 30 days'
            WHEN last_seen > t - INTERVAL 90 DAY THEN 'b: last active 30-90 days ago'
            ELSE 'c: last active 90-365 days ago' END AS last_activity,
       count(*)                                       AS people
FROM last_active
GROUP BY ALL
ORDER BY last_activity;
