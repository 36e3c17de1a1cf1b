-- One row per tweet id. Re-deliveries and replays update a row only with newer data (see
-- consumer/src/db/upsert.rs), so the table is the same however often a topic is read.
CREATE TABLE IF NOT EXISTS tweets (
    id               BIGINT PRIMARY KEY,
    author_id        BIGINT,
    username         TEXT,
    created_at       TIMESTAMPTZ,
    text             TEXT        NOT NULL,
    retweet_count    BIGINT      NOT NULL DEFAULT 0,
    like_count       BIGINT,
    reply_count      BIGINT,
    quote_count      BIGINT,
    location         TEXT,
    lang             TEXT,
    hashtags         TEXT[]      NOT NULL DEFAULT '{}',
    is_retweet       BOOLEAN     NOT NULL DEFAULT false,
    format           TEXT        NOT NULL,
    raw              JSONB       NOT NULL,
    kafka_partition  INTEGER     NOT NULL,
    kafka_offset     BIGINT      NOT NULL,
    ingested_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS tweets_created_at_idx ON tweets (created_at);
CREATE INDEX IF NOT EXISTS tweets_username_idx ON tweets (username);
