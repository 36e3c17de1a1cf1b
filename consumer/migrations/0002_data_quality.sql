-- Data quality: content fingerprints and links, filter flags, honoured deletions, counts.
ALTER TABLE tweets ADD COLUMN IF NOT EXISTS content_hash BIGINT;
-- With --dedup content: the earliest stored tweet with the same normalised text.
ALTER TABLE tweets ADD COLUMN IF NOT EXISTS duplicate_of BIGINT;
-- With --filter-mode flag: the filter rule the tweet matched.
ALTER TABLE tweets ADD COLUMN IF NOT EXISTS matched_rule TEXT;
CREATE INDEX IF NOT EXISTS tweets_content_hash_idx ON tweets (content_hash);

-- Tweets X says were deleted. Their rows are gone and never come back, even if an older copy
-- of the tweet is replayed.
CREATE TABLE IF NOT EXISTS deleted_tweets (
    id         BIGINT PRIMARY KEY,
    deleted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Event counts per hour of ingestion. Rows stored come from `tweets` itself (exact however
-- often a topic is replayed); these count what happened to each message read.
CREATE TABLE IF NOT EXISTS ingest_counts (
    hour               TIMESTAMPTZ PRIMARY KEY,
    seen               BIGINT NOT NULL DEFAULT 0,
    duplicates         BIGINT NOT NULL DEFAULT 0,
    content_duplicates BIGINT NOT NULL DEFAULT 0,
    filtered           BIGINT NOT NULL DEFAULT 0,
    flagged            BIGINT NOT NULL DEFAULT 0,
    deleted            BIGINT NOT NULL DEFAULT 0,
    dead_lettered      BIGINT NOT NULL DEFAULT 0
);

-- The tweet count, per hour: messages seen, new unique tweets, duplicates, music (filtered),
-- deleted, and rows stored now.
CREATE OR REPLACE VIEW tweet_counts_hourly AS
WITH stored AS (
    SELECT date_trunc('hour', ingested_at) AS hour, count(*) AS stored FROM tweets GROUP BY 1
), hours AS (
    SELECT hour FROM ingest_counts UNION SELECT hour FROM stored
)
SELECT h.hour,
       coalesce(c.seen, 0)               AS seen,
       coalesce(s.stored, 0)             AS stored,
       coalesce(c.duplicates, 0)         AS duplicates,
       coalesce(c.content_duplicates, 0) AS content_duplicates,
       coalesce(c.filtered, 0)           AS filtered,
       coalesce(c.flagged, 0)            AS flagged,
       coalesce(c.deleted, 0)            AS deleted,
       coalesce(c.dead_lettered, 0)      AS dead_lettered
FROM hours h
LEFT JOIN ingest_counts c USING (hour)
LEFT JOIN stored s USING (hour);

CREATE OR REPLACE VIEW tweet_counts_daily AS
SELECT date_trunc('day', hour) AS day,
       sum(seen)::bigint AS seen, sum(stored)::bigint AS stored, sum(duplicates)::bigint AS duplicates,
       sum(content_duplicates)::bigint AS content_duplicates, sum(filtered)::bigint AS filtered,
       sum(flagged)::bigint AS flagged, sum(deleted)::bigint AS deleted,
       sum(dead_lettered)::bigint AS dead_lettered
FROM tweet_counts_hourly GROUP BY 1;
