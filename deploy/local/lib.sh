# shellcheck shell=bash
# Helpers the local stack's scripts share, sourced by stack.sh (and through it secure.sh):
# log lines, fatal errors, and the Kafka nodes' logging configuration. Set LOG_TAG before
# sourcing to name the script in log lines (default: stack).

LOG_TAG="${LOG_TAG:-stack}"

log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() {
  printf '[%s] error: %s\n' "$LOG_TAG" "$*" >&2
  exit 1
}

# Writes log4j2.properties into the Kafka node directory $1: console only, and the request,
# state-change and log-cleaner loggers at warn (at info they drown everything else).
kafka_configure_logging() {
  cat >"$1/log4j2.properties" <<'PROPERTIES'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
PROPERTIES
}
