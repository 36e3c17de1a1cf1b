# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tweetpipe_consumer_global_optspecs
    string join \n log-format= h/help V/version
end

function __fish_tweetpipe_consumer_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tweetpipe_consumer_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tweetpipe_consumer_using_subcommand
    set -l cmd (__fish_tweetpipe_consumer_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -s V -l version -d 'Print version'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -f -a "run" -d 'Join the consumer group and store tweets (runs migrations first, unless --no-migrate)'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -f -a "check" -d 'Check what `run` with the same flags and environment needs (brokers, credentials, topic, the group\'s position, PostgreSQL, TLS, migrations), a line per step, within --timeout. Exit 0 ok, 69 a server unreachable, 78 configuration or credentials wrong'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -f -a "migrate" -d 'Apply the database migrations and exit (or print them with --print-sql)'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -f -a "replay" -d 'Move a group\'s committed offsets back (or forward) to replay a topic. A dry run unless --execute; refuses while the group has active members'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -f -a "stats" -d 'The tweet count: seen, stored, duplicates, filtered (music), deleted, overall and per hour or day'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l database-url -d 'PostgreSQL URL [default: the local stack\'s postgres://tweetpipe:***@localhost:5432/tweetpipe]' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l db-pool-size -d 'Database connections in the pool' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l statement-timeout -d 'Longest a single statement may run (lock waits included), e.g. `30s`; 0 for no limit, as in PostgreSQL. Keep it well below the consumer\'s max.poll.interval.ms: a statement that hangs longer is cancelled, retried, and the consumer stays in its group meanwhile' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l db-connect-timeout -d 'How long connecting may take, retries of an unreachable database included, e.g. `5m`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l migrate -d '`false` is --no-migrate, for the environment' -r -f -a "true\t''
false\t''"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l topic -d 'Topic to consume; records that cannot be stored go to `<topic>.dlq`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l group -d 'Consumer group: processes in one group share the topic\'s partitions' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l batch-size -d 'Most messages written in one database transaction' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l db-writers -d 'Lanes writing at once, each its own transaction on its own connection (keep it below `--db-pool-size`): a batch\'s rows are split over them by tweet id, and each lane moves on to the next batch as soon as its part is written. 1 with `--dedup content`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l batch-linger -d 'How long a batch gathers messages after its first, e.g. `2ms` [default: 2ms]; after that it closes as soon as no more messages are waiting (at once when full). 0: close on an empty queue' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l batch-linger-ms -d 'The old spelling of --batch-linger (bare milliseconds), kept for one release' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l dedup-cache -d 'Recently stored ids kept in memory to spare the database hot duplicates' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l filter-term -l music-term -d 'Filter rules: words, phrases or `#hashtags` (comma-separated or repeated). The default drops music tweets' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l filter-file -d 'A file of further filter terms, one a line (`# ` or `//` start a comment)' -r -F
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l filter-mode -d '`drop` matched tweets, or `flag` them (stored, with the rule in `matched_rule`)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l dedup -d '`id`: one row per tweet id. `content`: also link tweets whose normalised text repeats an earlier tweet\'s (retweets, copy-paste spam) to it in `duplicate_of`' -r -f -a "id\t''
content\t''"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l pseudonym-key-file -d 'File holding the pseudonym key (a mounted Secret)' -r -F
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l pseudonym-key -d 'The pseudonym key itself; set TWEETPIPE_PSEUDONYM_KEY rather than a flag' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l from -d 'Where a group without committed offsets starts: `earliest` or an RFC 3339 time. Partitions the group has already committed resume from there (a restarted backfill Job goes on)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l http-addr -d 'Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l drain-timeout -d 'On SIGTERM, how long the in-flight batch may take to finish and commit, e.g. `20s`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l db-retry-limit -d 'Ignored, kept so that existing configurations still start: an outage is now waited out however long it lasts and never dead-lettered (docs/write-contract.md)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l summary-json -d 'Also write the run\'s summary (the JSON line printed last on stdout) to this file' -r -F
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l no-migrate -d 'Do not apply the migrations (a pre-install hook or a DBA applies them): the database role then needs only SELECT, INSERT, UPDATE and DELETE on the tables'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l pseudonymize -d 'Replace usernames, display names and locations with keyed pseudonyms (HMAC-SHA256) before anything is stored. The key comes from TWEETPIPE_PSEUDONYM_KEY or --pseudonym-key-file'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -l exit-at-end -d 'Consume until every assigned partition reaches the end seen at start, commit, and exit'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l database-url -d 'PostgreSQL URL [default: the local stack\'s postgres://tweetpipe:***@localhost:5432/tweetpipe]' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l db-pool-size -d 'Database connections in the pool' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l statement-timeout -d 'Longest a single statement may run (lock waits included), e.g. `30s`; 0 for no limit, as in PostgreSQL. Keep it well below the consumer\'s max.poll.interval.ms: a statement that hangs longer is cancelled, retried, and the consumer stays in its group meanwhile' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l db-connect-timeout -d 'How long connecting may take, retries of an unreachable database included, e.g. `5m`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l migrate -d '`false` is --no-migrate, for the environment' -r -f -a "true\t''
false\t''"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l topic -d 'Topic to consume; records that cannot be stored go to `<topic>.dlq`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l group -d 'Consumer group: processes in one group share the topic\'s partitions' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l batch-size -d 'Most messages written in one database transaction' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l db-writers -d 'Lanes writing at once, each its own transaction on its own connection (keep it below `--db-pool-size`): a batch\'s rows are split over them by tweet id, and each lane moves on to the next batch as soon as its part is written. 1 with `--dedup content`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l batch-linger -d 'How long a batch gathers messages after its first, e.g. `2ms` [default: 2ms]; after that it closes as soon as no more messages are waiting (at once when full). 0: close on an empty queue' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l batch-linger-ms -d 'The old spelling of --batch-linger (bare milliseconds), kept for one release' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l dedup-cache -d 'Recently stored ids kept in memory to spare the database hot duplicates' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l filter-term -l music-term -d 'Filter rules: words, phrases or `#hashtags` (comma-separated or repeated). The default drops music tweets' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l filter-file -d 'A file of further filter terms, one a line (`# ` or `//` start a comment)' -r -F
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l filter-mode -d '`drop` matched tweets, or `flag` them (stored, with the rule in `matched_rule`)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l dedup -d '`id`: one row per tweet id. `content`: also link tweets whose normalised text repeats an earlier tweet\'s (retweets, copy-paste spam) to it in `duplicate_of`' -r -f -a "id\t''
content\t''"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l pseudonym-key-file -d 'File holding the pseudonym key (a mounted Secret)' -r -F
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l pseudonym-key -d 'The pseudonym key itself; set TWEETPIPE_PSEUDONYM_KEY rather than a flag' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l from -d 'Where a group without committed offsets starts: `earliest` or an RFC 3339 time. Partitions the group has already committed resume from there (a restarted backfill Job goes on)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l http-addr -d 'Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l drain-timeout -d 'On SIGTERM, how long the in-flight batch may take to finish and commit, e.g. `20s`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l db-retry-limit -d 'Ignored, kept so that existing configurations still start: an outage is now waited out however long it lasts and never dead-lettered (docs/write-contract.md)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l summary-json -d 'Also write the run\'s summary (the JSON line printed last on stdout) to this file' -r -F
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l timeout -d 'How long the whole check may take (it does not wait out start-up retries)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l no-migrate -d 'Do not apply the migrations (a pre-install hook or a DBA applies them): the database role then needs only SELECT, INSERT, UPDATE and DELETE on the tables'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l pseudonymize -d 'Replace usernames, display names and locations with keyed pseudonyms (HMAC-SHA256) before anything is stored. The key comes from TWEETPIPE_PSEUDONYM_KEY or --pseudonym-key-file'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -l exit-at-end -d 'Consume until every assigned partition reaches the end seen at start, commit, and exit'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand migrate" -l database-url -d 'PostgreSQL URL [default: the local stack\'s postgres://tweetpipe:***@localhost:5432/tweetpipe]' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand migrate" -l db-pool-size -d 'Database connections in the pool' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand migrate" -l statement-timeout -d 'Longest a single statement may run (lock waits included), e.g. `30s`; 0 for no limit, as in PostgreSQL. Keep it well below the consumer\'s max.poll.interval.ms: a statement that hangs longer is cancelled, retried, and the consumer stays in its group meanwhile' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand migrate" -l db-connect-timeout -d 'How long connecting may take, retries of an unreachable database included, e.g. `5m`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand migrate" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand migrate" -l print-sql -d 'Print the embedded migrations\' SQL, in the order they apply, and exit without connecting (for a DBA to review or apply)'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l database-url -d 'PostgreSQL URL [default: the local stack\'s postgres://tweetpipe:***@localhost:5432/tweetpipe]' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l db-pool-size -d 'Database connections in the pool' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l statement-timeout -d 'Longest a single statement may run (lock waits included), e.g. `30s`; 0 for no limit, as in PostgreSQL. Keep it well below the consumer\'s max.poll.interval.ms: a statement that hangs longer is cancelled, retried, and the consumer stays in its group meanwhile' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l db-connect-timeout -d 'How long connecting may take, retries of an unreachable database included, e.g. `5m`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l topic -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l group -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l to -d '`earliest`: the start of every partition' -r -f -a "earliest\t''"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l to-datetime -d 'The first offset at or after this time (RFC 3339), per partition; the end when later' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l to-offsets -d 'Explicit offsets, `PARTITION:OFFSET,…`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -l execute -d 'Commit the targets. Without it, only print what would happen'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand stats" -l database-url -d 'PostgreSQL URL [default: the local stack\'s postgres://tweetpipe:***@localhost:5432/tweetpipe]' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand stats" -l db-pool-size -d 'Database connections in the pool' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand stats" -l statement-timeout -d 'Longest a single statement may run (lock waits included), e.g. `30s`; 0 for no limit, as in PostgreSQL. Keep it well below the consumer\'s max.poll.interval.ms: a statement that hangs longer is cancelled, retried, and the consumer stays in its group meanwhile' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand stats" -l db-connect-timeout -d 'How long connecting may take, retries of an unreachable database included, e.g. `5m`' -r
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand stats" -l by -d 'Rows per hour or per day (the total comes first either way)' -r -f -a "hour\t''
day\t''"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand stats" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand help; and not __fish_seen_subcommand_from run check migrate replay stats help" -f -a "run" -d 'Join the consumer group and store tweets (runs migrations first, unless --no-migrate)'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand help; and not __fish_seen_subcommand_from run check migrate replay stats help" -f -a "check" -d 'Check what `run` with the same flags and environment needs (brokers, credentials, topic, the group\'s position, PostgreSQL, TLS, migrations), a line per step, within --timeout. Exit 0 ok, 69 a server unreachable, 78 configuration or credentials wrong'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand help; and not __fish_seen_subcommand_from run check migrate replay stats help" -f -a "migrate" -d 'Apply the database migrations and exit (or print them with --print-sql)'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand help; and not __fish_seen_subcommand_from run check migrate replay stats help" -f -a "replay" -d 'Move a group\'s committed offsets back (or forward) to replay a topic. A dry run unless --execute; refuses while the group has active members'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand help; and not __fish_seen_subcommand_from run check migrate replay stats help" -f -a "stats" -d 'The tweet count: seen, stored, duplicates, filtered (music), deleted, overall and per hour or day'
complete -c tweetpipe-consumer -n "__fish_tweetpipe_consumer_using_subcommand help; and not __fish_seen_subcommand_from run check migrate replay stats help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
