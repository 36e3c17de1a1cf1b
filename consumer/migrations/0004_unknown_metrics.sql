-- Unknown is not zero: a tweet whose input carries no retweet count stores NULL, like the
-- other metrics. The write paths' newer-wins rule already treats NULL as "unknown" (GREATEST
-- ignores it; a known count replaces it). Rows stored before keep their 0: whether that 0 was
-- read or assumed is only in `raw` (see the README's table reference for a one-off backfill).
ALTER TABLE tweets ALTER COLUMN retweet_count DROP NOT NULL;
ALTER TABLE tweets ALTER COLUMN retweet_count DROP DEFAULT;
