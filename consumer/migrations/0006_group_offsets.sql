-- Exactly once into PostgreSQL (docs/delivery-guarantees.md): each group's position in each
-- partition, written in the same transaction as the rows, deletions and counts it covers. A
-- transaction moves it only from where its batch started (`WHERE next_offset = start`), so a
-- batch's effects land once, whichever member (or zombie) tries. On assignment a member reads
-- from here; a partition missing here starts from the group's Kafka offsets, as before.
CREATE TABLE IF NOT EXISTS consumer_offsets (
    group_id    TEXT        NOT NULL,
    topic       TEXT        NOT NULL,
    partition   INTEGER     NOT NULL,
    next_offset BIGINT      NOT NULL CHECK (next_offset >= 0),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
