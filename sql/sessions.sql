-- Sessions as the feature engine counts them (frequency_30d): a person's active events, split where 30 minutes pass
-- without one (conf/features.yaml sessionGapMinutes). Passive events (conf/features.yaml passiveEvents: things that
-- happen to a person, such as an email opened or a renewal) start no session; identify, alias and group calls carry
-- no event. Per day: sessions started, people, and their mean length and events.
WITH active AS (
    SELECT resolvedId, timestamp AS t
    FROM events
    WHERE event IS NOT NULL
      AND event NOT IN ('email_opened', 'payment_succeeded', 'subscription_renewed', 'trial_ending', 'order_refunded')
), marked AS (
    SELECT resolvedId, t,
           CASE WHEN t - lag(t) OVER (PARTITION BY resolvedId ORDER BY t) <= INTERVAL 30 MINUTE THEN 0 ELSE 1 END AS starts
    FROM active
), numbered AS (
    SELECT resolvedId, t, sum(starts) OVER (PARTITION BY resolvedId ORDER BY t ROWS UNBOUNDED PRECEDING) AS session
    FROM marked
), sessions AS (
    SELECT resolvedId, session, min(t) AS started, max(t) AS ended, count(*) AS events
    FROM numbered
    GROUP BY resolvedId, session
)
SELECT CAST(started AT TIME ZONE 'UTC' AS DATE)                       AS day,
       count(*)                                                       AS sessions,
       count(DISTINCT resolvedId)                                     AS people,
       round(avg(epoch(ended) - epoch(started)) / 60, 1)              AS avg_minutes,
       round(avg(events), 1)                                          AS avg_events
FROM sessions
GROUP BY day
ORDER BY day;
