-- P3's peer: the training's point-in-time rows (TrainingJob phase 1: HistoryRows, ExamplesFunction, ChurnLabels,
-- UserFeatures, ProfileTraits) computed by DuckDB from the same Parquet files, independently of the Java code.
-- FeatureBuildBenchmark fills in the ${...} placeholders from the run's cutoff and horizon and from
-- conf/features.yaml, runs the macros, then the query, whose rows it compares with the Flink job's one by one.
-- Times are epoch ms (UTC); a day is 86,400,000 ms (UserFeatures.DAY) and a day bucket ms // days(1). A window of
-- w days holds the day buckets whose start lies in (t - w days, t] (UserFeatures.inDays and sum), not the last w x 24
-- hours.

-- UserFeatures.DAY: n days in ms
CREATE OR REPLACE TEMP MACRO days(n) AS CAST(n AS BIGINT) * 86400000;

-- UnifiedEvent.numberProperty: a property that is a JSON number, else NULL (the caller's fallback)
CREATE OR REPLACE TEMP MACRO json_number(j, k) AS
    CASE WHEN json_type(j, '$.' || k) IN ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE')
         THEN CAST(json_extract(j, '$.' || k) AS DOUBLE) END;

-- UnifiedEvent.stringProperty: a property as text (numbers and booleans rendered), NULL when absent, null, an object
-- or an array
CREATE OR REPLACE TEMP MACRO json_text(j, k) AS
    CASE WHEN json_type(j, '$.' || k) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE', 'BOOLEAN')
         THEN json_extract_string(j, '$.' || k) END;

WITH
-- ExamplesFunction.processElement and onTimer: a user's events up to T, each message (source, messageId) once.
-- UnifiedEventAvro.forFeatures: the well-known properties from their typed columns, the others from the JSON text.
history AS (
    SELECT DISTINCT ON (resolvedId, source, messageId)
           resolvedId AS uid, event, epoch_ms("timestamp") AS ts, revenue, price, items, product_id, category,
           properties
    FROM read_parquet('${files}')
    WHERE epoch_ms("timestamp") <= ${T}
),
ev AS (
    SELECT uid, event, ts,
           ts // days(1) * days(1)                           AS day_start,
           -- UserFeatures.add: a named event that is not passive is activity (sessions, recency, tenure)
           event IS NOT NULL AND event NOT IN (${passive})        AS active,
           -- ChurnLabels.counts: activity for the label and the population (features.yaml activityEvents)
           coalesce(event IN (${activity}), false)                 AS qualifying,
           -- UserFeatures.add: a revenue event's money, its revenue property, else amount, else 0
           CASE WHEN event IN (${revenue})
                THEN coalesce(revenue, json_number(properties, 'revenue'), json_number(properties, 'amount'), 0)
           END                                                     AS amount,
           -- UserFeatures.add: featureLastUsed
           CASE WHEN event = 'feature_used' THEN json_text(properties, 'feature') END AS feature,
           -- ChurnLabels.example: an order's items, 1 when not a number
           CASE WHEN event = 'order_completed'
                THEN coalesce(CAST(items AS DOUBLE), json_number(properties, 'items'), 1) END AS order_items,
           -- ProfileTraits.product: product_id (else sku), cut at 120 characters; its category and price
           CASE WHEN event IN ('product_view', 'add_to_cart', 'remove_from_cart')
                THEN left(coalesce(product_id, json_text(properties, 'product_id'), json_text(properties, 'sku')), 120)
           END                                                     AS pid,
           left(coalesce(category, json_text(properties, 'category')), 120) AS category,
           price,
           -- UserFeatures.addActivity: the time since the previous activity (a session ends after the gap; a year
           -- away starts a new tenure)
           CASE WHEN event IS NOT NULL AND event NOT IN (${passive})
                THEN ts - lag(ts) OVER (PARTITION BY uid, event IS NOT NULL AND event NOT IN (${passive}) ORDER BY ts)
           END                                                     AS active_gap
    FROM history
),
-- TrainingRow.Split and ChurnLabels.example: features as of ft, labels from (ft, label_end]
times(split, ft, label_end) AS (
    VALUES ('TRAIN', ${T} - 2 * ${H}, ${T} - ${H}), ('HOLDOUT', ${T} - ${H}, ${T}), ('CURRENT', ${T}, NULL)
),
-- UserFeatures.addActivity, closeSession: a user's activity split into sessions where more than the gap passes
sessions AS (
    SELECT uid, min(ts) AS started, max(ts) AS ended
    FROM (SELECT uid, ts, sum(CASE WHEN active_gap IS NULL OR active_gap > ${sessionGap} THEN 1 ELSE 0 END)
                              OVER (PARTITION BY uid ORDER BY ts RANGE UNBOUNDED PRECEDING) AS session
          FROM ev WHERE active)
    GROUP BY uid, session
),
-- UserFeatures.snapshot: everything one pass over a user's events up to ft can sum
at_time AS (
    SELECT uid, split, ft, label_end,
           -- ChurnLabels.inPopulation: qualifying activity in (ft - lookback, ft]
           bool_or(qualifying AND ts > ft - ${lookback})                              AS in_population,
           max(ts) FILTER (WHERE active)                                              AS last_active,
           -- UserFeatures.addActivity: the first activity, or the first after a year without any
           max(ts) FILTER (WHERE active AND (active_gap IS NULL OR active_gap >= days(365))) AS first_active,
           max(ts) FILTER (WHERE event = 'add_to_cart')                               AS last_add,
           max(ts) FILTER (WHERE event = 'order_completed')                           AS last_order,
           -- the counts of FeatureSnapshot.numeric: day buckets in the window
           count(*) FILTER (WHERE event = 'support_ticket_created' AND day_start > ft - days(60)) AS support_tickets_60d,
           count(*) FILTER (WHERE event = 'add_to_cart' AND day_start > ft - days(30))            AS cart_adds_30d,
           count(*) FILTER (WHERE event IN ('email_opened', 'email_clicked') AND day_start > ft - days(30))
                                                                                      AS email_engagement_30d,
           -- purchasesByDay: revenue events and their money
           count(*) FILTER (WHERE amount IS NOT NULL AND day_start > ft - days(365))         AS purchases_365d,
           coalesce(sum(amount) FILTER (WHERE day_start > ft - days(365)), 0)                AS monetary_value_365d,
           coalesce(sum(amount) FILTER (WHERE day_start > ft - days(90)), 0)                 AS monetary_value_90d,
           -- featureLastUsed within 90 days, of the configured key features
           count(DISTINCT feature) FILTER (WHERE feature IN (${keyFeatures}) AND ts > ft - days(90)) AS key_used
    FROM ev JOIN times ON ev.ts <= times.ft
    GROUP BY uid, split, ft, label_end
),
-- UserFeatures.snapshot: sessions started on a day in the 30-day window, the one still open cut at the last activity
session_features AS (
    SELECT a.uid, a.split, count(*) AS sessions, sum(least(s.ended, a.last_active) - s.started) AS duration
    FROM at_time a JOIN sessions s ON s.uid = a.uid AND s.started <= a.ft
                                  AND s.started // days(1) * days(1) > a.ft - days(30)
    GROUP BY a.uid, a.split
),
-- ProfileTraits.viewed: each product's latest view, the last MAX_VIEWED (10) of them, most recent first. Only views
-- within 24 hours reach a feature, and those rank above every older one, so older views are not read.
viewed AS (
    SELECT uid, split, ft, pid, ts AS at, price, category
    FROM (SELECT ev.*, split, ft FROM ev JOIN times ON ev.ts <= times.ft AND ev.ts > times.ft - days(1)
          WHERE event = 'product_view' AND pid IS NOT NULL AND trim(pid) <> ''
          QUALIFY row_number() OVER (PARTITION BY uid, split, pid ORDER BY ts DESC) = 1)
    QUALIFY row_number() OVER (PARTITION BY uid, split ORDER BY ts DESC, pid) <= 10
),
-- ProfileTraits.cart: each product's latest add within CART_KEPT_DAYS (30), unless an order or its removal came at
-- or after it; at most MAX_CART (20), the newest (exact when nothing was removed from a full cart)
cart AS (
    SELECT c.uid, c.split, c.pid, c.at, c.price, c.category
    FROM (SELECT ev.uid, split, ft, pid, ts AS at, price, category
          FROM ev JOIN times ON ev.ts <= times.ft AND ev.ts > times.ft - days(30)
          WHERE event = 'add_to_cart' AND pid IS NOT NULL AND trim(pid) <> ''
          QUALIFY row_number() OVER (PARTITION BY uid, split, pid ORDER BY ts DESC) = 1) c
    JOIN at_time a ON a.uid = c.uid AND a.split = c.split
    WHERE (a.last_order IS NULL OR a.last_order < c.at)
      AND NOT EXISTS (SELECT 1 FROM ev r WHERE r.event = 'remove_from_cart' AND r.uid = c.uid AND r.pid = c.pid
                                           AND r.ts >= c.at AND r.ts <= c.ft)
    QUALIFY row_number() OVER (PARTITION BY c.uid, c.split ORDER BY c.at DESC, c.pid DESC) <= 20
),
cart_features AS (
    SELECT uid, split, coalesce(sum(price), 0) AS cart_value FROM cart GROUP BY uid, split
),
view_features AS (
    SELECT uid, split, coalesce(max(price), 0) AS max_price_viewed_24h FROM viewed GROUP BY uid, split
),
-- ProfileTraits.categoriesAfterCart: distinct categories viewed after the last add to cart (when no order followed
-- it and it is within 24 hours), other than the cart's own
after_cart AS (
    SELECT v.uid, v.split, count(DISTINCT v.category) AS categories_after_cart_24h
    FROM viewed v JOIN at_time a ON a.uid = v.uid AND a.split = v.split
    WHERE a.last_add > coalesce(a.last_order, -1) AND a.last_add > a.ft - days(1)
      AND v.at > a.last_add AND v.category IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM cart c WHERE c.uid = v.uid AND c.split = v.split AND c.category = v.category)
    GROUP BY v.uid, v.split
),
-- ChurnLabels.example: churned when no qualifying activity in (ft, label_end]; a bundle when an order of 2+ items in
-- (ft, ft + bundle window]
labels AS (
    SELECT uid, split, bool_or(qualifying) AS active_after,
           bool_or(event = 'order_completed' AND order_items >= 2 AND ts <= ft + ${bundleWindow}) AS bought_bundle
    FROM ev JOIN times ON ev.ts > times.ft AND ev.ts <= times.label_end
    GROUP BY uid, split
),
point_in_time AS (
    SELECT a.uid, a.split, a.ft,
           -- UserFeatures.wholeDays: whole days since the last activity, at most 365; 365 when never active
           CASE WHEN a.last_active IS NULL THEN 365 ELSE least(365, (a.ft - a.last_active) // days(1)) END AS recency,
           coalesce(s.sessions, 0) AS frequency_30d,
           a.monetary_value_90d,
           -- key features used in 90 days / key features configured
           CASE WHEN ${keyFeatureCount} = 0 THEN 0 ELSE a.key_used / ${keyFeatureCount} END AS feature_adoption_rate,
           a.support_tickets_60d,
           CASE WHEN coalesce(s.sessions, 0) = 0 THEN 0 ELSE s.duration / 60000.0 / s.sessions END AS avg_session_duration,
           a.cart_adds_30d,
           a.email_engagement_30d,
           a.purchases_365d,
           a.monetary_value_365d,
           CASE WHEN a.first_active IS NULL OR a.first_active > a.ft THEN 0
                ELSE least(365, (a.ft - a.first_active) // days(1)) END AS tenure_days,
           -- whole days from the first activity to the last (UserFeatures.overduePurchases' activeSpanDays)
           CASE WHEN a.first_active IS NULL OR a.last_active IS NULL THEN 0
                ELSE (a.last_active - a.first_active) // days(1) END AS active_span,
           coalesce(c.cart_value, 0) AS cart_value,
           coalesce(v.max_price_viewed_24h, 0) AS max_price_viewed_24h,
           coalesce(ac.categories_after_cart_24h, 0) AS categories_after_cart_24h,
           a.split <> 'CURRENT' AND NOT coalesce(l.active_after, false) AS churned,
           coalesce(l.bought_bundle, false) AS bought_bundle
    FROM at_time a
    LEFT JOIN session_features s ON s.uid = a.uid AND s.split = a.split
    LEFT JOIN cart_features c ON c.uid = a.uid AND c.split = a.split
    LEFT JOIN view_features v ON v.uid = a.uid AND v.split = a.split
    LEFT JOIN after_cart ac ON ac.uid = a.uid AND ac.split = a.split
    LEFT JOIN labels l ON l.uid = a.uid AND l.split = a.split
    WHERE a.in_population
)
SELECT uid AS user_id, split, recency, frequency_30d, monetary_value_90d, feature_adoption_rate, support_tickets_60d,
       avg_session_duration, cart_adds_30d, email_engagement_30d, purchases_365d, monetary_value_365d, tenure_days,
       -- UserFeatures.overduePurchases: purchases at the year's pace since the last activity
       CASE WHEN purchases_365d = 0 THEN 0
            ELSE purchases_365d * recency / greatest(1, least(365, active_span + recency)) END AS overdue_purchases,
       cart_value, max_price_viewed_24h, categories_after_cart_24h, churned, bought_bundle
FROM point_in_time;
