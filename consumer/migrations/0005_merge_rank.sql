-- The merge rule (consumer/src/merge.rs, docs/write-contract.md): the columns a row takes whole
-- from one copy come from the copy with the greatest rank, stored here so that any later copy
-- is judged against the winner itself, not against the per-column maxima. A row stored before
-- this migration has none, and the next copy of its id outranks it.
ALTER TABLE tweets ADD COLUMN IF NOT EXISTS copy_rank BYTEA;
