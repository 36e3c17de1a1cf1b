# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tweetpipe_producer_global_optspecs
    string join \n log-format= brokers= X= sasl-username= sasl-password= sasl-password-file= security-protocol= sasl-mechanism= ssl-ca-location= topic= source= count= rate= duplicate-share= music-share= seed= wall-clock api-base-url= bearer-token= bearer-token-file= rule= rules-file= stream-timeout= query= interval= start-time= checkpoint-file= max-auth-failures= x-response-timeout= rule-tag-prefix= x-backoff-scale= partitions= replication-factor= create-topics= max-message-bytes= max-line-bytes= flush-timeout= http-addr= lineage-headers channel-capacity= summary-json= h/help V/version
end

function __fish_tweetpipe_producer_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tweetpipe_producer_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tweetpipe_producer_using_subcommand
    set -l cmd (__fish_tweetpipe_producer_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l topic -d 'Topic to produce to; dead letters go to `<topic>.dlq`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l source -d 'Where tweets come from, read in order (repeatable): `file:PATH` (JSON lines or one JSON document; `.gz` too), `stdin`, `synthetic`, `x-stream` (the X filtered stream) or `x-search` (X recent search). Required: the producer never makes up input itself' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l count -d 'Messages the synthetic source emits (re-sent duplicates included)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l rate -d 'Messages per second; 0 means as fast as Kafka takes them' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l duplicate-share -d 'Share of messages that re-send an earlier tweet (often with newer metrics)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l music-share -d 'Share of new tweets that mention music' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l seed -d 'Seed: the same seed gives the same tweets' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l api-base-url -d 'Base URL of the X API; tests and proxies point it elsewhere' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l bearer-token -d 'App-only bearer token; set X_BEARER_TOKEN instead of passing it on a command line' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l bearer-token-file -d 'File holding the bearer token (a mounted Kubernetes Secret). The token can also come from the X_BEARER_TOKEN environment variable. It is never printed' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l rule -d 'Filtered-stream rule (repeatable): `VALUE`, or `TAG: VALUE` to tag it, e.g. `--rule \'jb: #justinbieber -is:retweet\'`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l rules-file -d 'File of filtered-stream rules, one per line in `--rule` syntax; `#` starts a comment' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l stream-timeout -d 'Silence (neither data nor keep-alive) after which the stream counts as dead, e.g. `20s`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l query -d 'Recent-search query (`--source x-search`)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l interval -d 'Time between recent-search polls, e.g. `60s`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l start-time -d 'One-off backfill: search from this time (RFC 3339, at most 7 days back), then exit' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l checkpoint-file -d 'Where recent search keeps the newest id it sent, so a restart neither misses nor repeats' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l max-auth-failures -d 'Consecutive 401/403 answers before giving up with an error' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l x-response-timeout -d 'Deadline for each X request: connecting, the response headers, and any gap between the bytes of a body (search pages, rules, error bodies), e.g. `30s`. A stream\'s body is governed by --stream-timeout instead' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l rule-tag-prefix -d 'Tag prefix of the stream rules this producer manages: it tags the rules it adds with it, and deletes only rules whose tag starts with it (other tools\' rules are left alone)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l x-backoff-scale -d 'Shrinks every reconnect delay (for tests of the real schedule); 1 in production' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l partitions -d 'Partitions for topics this run creates (it never changes existing topics)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l replication-factor -d 'Replication factor for topics this run creates (-1: the broker\'s default)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l create-topics -d 'Create the topic and its dead-letter topic when missing' -r -f -a "true\t''
false\t''"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l max-message-bytes -d 'Largest tweet message; a larger one is dead-lettered (cut short) with reason `oversized`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l max-line-bytes -d 'Longest input line (or document) read into memory; longer ones are dead-lettered' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l flush-timeout -d 'How long the final flush may wait for outstanding deliveries, e.g. `30s`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l http-addr -d 'Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l channel-capacity -d 'Messages buffered between the readers and Kafka: single records from the X API and the generator, batches of up to 256 from files and stdin' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l summary-json -d 'Also write the summary as one JSON object to this file (for scripts and tests)' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l wall-clock -d 'Stamp each new tweet\'s `created_at` with the moment it is generated (to millisecond precision), so `row committed - created_at` measures end-to-end latency'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -l lineage-headers -d 'Add lineage headers to every tweet and deletion: `tweetpipe.format`, `tweetpipe.source` and `tweetpipe.source.line`. Off by default: librdkafka keeps each header as its own allocation, which costs a fifth to a half of the producer\'s throughput on small tweets'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -s V -l version -d 'Print version'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -f -a "topic" -d 'Create, describe and grow the topic (partitions bound how many consumers can work)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -f -a "generate" -d 'Write synthetic v2 stream lines to a file (or stdout) instead of Kafka: test and benchmark input for `--source file:PATH`'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -f -a "check" -d 'Check the configuration a run with these flags would use (brokers, credentials, topic, the X token), a line per step, within --timeout. Exit 0 ok, 69 a server unreachable, 78 configuration or credentials wrong'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and not __fish_seen_subcommand_from create describe add-partitions exporter help" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and not __fish_seen_subcommand_from create describe add-partitions exporter help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and not __fish_seen_subcommand_from create describe add-partitions exporter help" -f -a "create" -d 'Create the topic and its dead-letter topic'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and not __fish_seen_subcommand_from create describe add-partitions exporter help" -f -a "describe" -d 'Partitions, leaders, high watermarks, and each group\'s committed offsets and lag'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and not __fish_seen_subcommand_from create describe add-partitions exporter help" -f -a "add-partitions" -d 'Grow the topic to N partitions (Kafka cannot shrink a topic)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and not __fish_seen_subcommand_from create describe add-partitions exporter help" -f -a "exporter" -d 'Serve /metrics with each consumer group\'s lag, read from the brokers (runs until SIGTERM)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and not __fish_seen_subcommand_from create describe add-partitions exporter help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l topic -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l partitions -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l replication-factor -d 'Replication factor (-1: the broker\'s default)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l retention -d 'How long Kafka keeps messages: `7d`, `12h`, `90m`, milliseconds, or `forever`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l topic -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l topic -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l to -d 'The new total number of partitions' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from add-partitions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l topic -d 'The topic to follow. Without it, every topic the groups have committed offsets on' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l group -d 'Consumer group to watch (repeatable, or comma-separated in the environment variable)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l interval -d 'Time between two rounds of reading offsets: `5s`, `1m`, `500ms`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l http-addr -d 'Serve /healthz, /readyz and /metrics here (port 0 picks a free port, logged)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from exporter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create the topic and its dead-letter topic'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Partitions, leaders, high watermarks, and each group\'s committed offsets and lag'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from help" -f -a "add-partitions" -d 'Grow the topic to N partitions (Kafka cannot shrink a topic)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from help" -f -a "exporter" -d 'Serve /metrics with each consumer group\'s lag, read from the brokers (runs until SIGTERM)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand topic; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l count -d 'Messages the synthetic source emits (re-sent duplicates included)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l rate -d 'Messages per second; 0 means as fast as Kafka takes them' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l duplicate-share -d 'Share of messages that re-send an earlier tweet (often with newer metrics)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l music-share -d 'Share of new tweets that mention music' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l seed -d 'Seed: the same seed gives the same tweets' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l out -d 'Where the JSON lines go; `-` for stdout' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -l wall-clock -d 'Stamp each new tweet\'s `created_at` with the moment it is generated (to millisecond precision), so `row committed - created_at` measures end-to-end latency'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l brokers -d 'Kafka bootstrap servers, comma-separated' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -s X -d 'Any librdkafka property as KEY=VALUE (repeatable), e.g. -X security.protocol=SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l sasl-username -d 'SASL username (sets sasl.username)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l sasl-password -d 'SASL password (sets sasl.password). Prefer the environment variable; never logged' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l sasl-password-file -d 'A file holding the SASL password (a mounted Secret); KAFKA_SASL_PASSWORD wins over it' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l security-protocol -d 'security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l sasl-mechanism -d 'sasl.mechanism: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN…' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l ssl-ca-location -d 'ssl.ca.location: the CA certificate(s) that signed the brokers\' certificates' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l topic -d 'Topic to produce to; dead letters go to `<topic>.dlq`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l source -d 'Where tweets come from, read in order (repeatable): `file:PATH` (JSON lines or one JSON document; `.gz` too), `stdin`, `synthetic`, `x-stream` (the X filtered stream) or `x-search` (X recent search). Required: the producer never makes up input itself' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l count -d 'Messages the synthetic source emits (re-sent duplicates included)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l rate -d 'Messages per second; 0 means as fast as Kafka takes them' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l duplicate-share -d 'Share of messages that re-send an earlier tweet (often with newer metrics)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l music-share -d 'Share of new tweets that mention music' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l seed -d 'Seed: the same seed gives the same tweets' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l api-base-url -d 'Base URL of the X API; tests and proxies point it elsewhere' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l bearer-token -d 'App-only bearer token; set X_BEARER_TOKEN instead of passing it on a command line' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l bearer-token-file -d 'File holding the bearer token (a mounted Kubernetes Secret). The token can also come from the X_BEARER_TOKEN environment variable. It is never printed' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l rule -d 'Filtered-stream rule (repeatable): `VALUE`, or `TAG: VALUE` to tag it, e.g. `--rule \'jb: #justinbieber -is:retweet\'`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l rules-file -d 'File of filtered-stream rules, one per line in `--rule` syntax; `#` starts a comment' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l stream-timeout -d 'Silence (neither data nor keep-alive) after which the stream counts as dead, e.g. `20s`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l query -d 'Recent-search query (`--source x-search`)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l interval -d 'Time between recent-search polls, e.g. `60s`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l start-time -d 'One-off backfill: search from this time (RFC 3339, at most 7 days back), then exit' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l checkpoint-file -d 'Where recent search keeps the newest id it sent, so a restart neither misses nor repeats' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l max-auth-failures -d 'Consecutive 401/403 answers before giving up with an error' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l x-response-timeout -d 'Deadline for each X request: connecting, the response headers, and any gap between the bytes of a body (search pages, rules, error bodies), e.g. `30s`. A stream\'s body is governed by --stream-timeout instead' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l rule-tag-prefix -d 'Tag prefix of the stream rules this producer manages: it tags the rules it adds with it, and deletes only rules whose tag starts with it (other tools\' rules are left alone)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l x-backoff-scale -d 'Shrinks every reconnect delay (for tests of the real schedule); 1 in production' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l partitions -d 'Partitions for topics this run creates (it never changes existing topics)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l replication-factor -d 'Replication factor for topics this run creates (-1: the broker\'s default)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l create-topics -d 'Create the topic and its dead-letter topic when missing' -r -f -a "true\t''
false\t''"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l max-message-bytes -d 'Largest tweet message; a larger one is dead-lettered (cut short) with reason `oversized`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l max-line-bytes -d 'Longest input line (or document) read into memory; longer ones are dead-lettered' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l flush-timeout -d 'How long the final flush may wait for outstanding deliveries, e.g. `30s`' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l http-addr -d 'Serve /healthz, /readyz and /metrics here (e.g. 0.0.0.0:9090; port 0 picks a free port)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l channel-capacity -d 'Messages buffered between the readers and Kafka: single records from the X API and the generator, batches of up to 256 from files and stdin' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l summary-json -d 'Also write the summary as one JSON object to this file (for scripts and tests)' -r -F
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l timeout -d 'How long the whole check may take (it does not wait out start-up retries)' -r
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l log-format -d 'Log line format' -r -f -a "text\t'Readable lines for a terminal'
json\t'One JSON object per line, for log collectors'"
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l wall-clock -d 'Stamp each new tweet\'s `created_at` with the moment it is generated (to millisecond precision), so `row committed - created_at` measures end-to-end latency'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -l lineage-headers -d 'Add lineage headers to every tweet and deletion: `tweetpipe.format`, `tweetpipe.source` and `tweetpipe.source.line`. Off by default: librdkafka keeps each header as its own allocation, which costs a fifth to a half of the producer\'s throughput on small tweets'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and not __fish_seen_subcommand_from topic generate check help" -f -a "topic" -d 'Create, describe and grow the topic (partitions bound how many consumers can work)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and not __fish_seen_subcommand_from topic generate check help" -f -a "generate" -d 'Write synthetic v2 stream lines to a file (or stdout) instead of Kafka: test and benchmark input for `--source file:PATH`'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and not __fish_seen_subcommand_from topic generate check help" -f -a "check" -d 'Check the configuration a run with these flags would use (brokers, credentials, topic, the X token), a line per step, within --timeout. Exit 0 ok, 69 a server unreachable, 78 configuration or credentials wrong'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and not __fish_seen_subcommand_from topic generate check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and __fish_seen_subcommand_from topic" -f -a "create" -d 'Create the topic and its dead-letter topic'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and __fish_seen_subcommand_from topic" -f -a "describe" -d 'Partitions, leaders, high watermarks, and each group\'s committed offsets and lag'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and __fish_seen_subcommand_from topic" -f -a "add-partitions" -d 'Grow the topic to N partitions (Kafka cannot shrink a topic)'
complete -c tweetpipe-producer -n "__fish_tweetpipe_producer_using_subcommand help; and __fish_seen_subcommand_from topic" -f -a "exporter" -d 'Serve /metrics with each consumer group\'s lag, read from the brokers (runs until SIGTERM)'
