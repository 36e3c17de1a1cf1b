# syntax=docker/dockerfile:1
# One image, both binaries. cargo-chef caches the dependency build in its own layer, so a
# source change rebuilds only tweetpipe itself.

FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.71
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# The workspace's release profile keeps line tables for the benchmark's profiles; the image
# needs none of them (96 MB and 82 MB binaries with, about 15 MB without). Set for the cook and
# the build alike, so the cached dependency layer matches.
ENV CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=debuginfo
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake libssl-dev pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin tweetpipe-producer --bin tweetpipe-consumer

FROM debian:bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tweetpipe" \
      org.opencontainers.image.description="Tweets from X into PostgreSQL through Kafka: tweetpipe-producer and tweetpipe-consumer" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="the tweetpipe authors" \
      org.opencontainers.image.source="https://github.com/tweetpipe/tweetpipe" \
      org.opencontainers.image.documentation="https://github.com/tweetpipe/tweetpipe/tree/main/docs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tweetpipe \
 && useradd --system --uid 10001 --gid tweetpipe --no-create-home --shell /usr/sbin/nologin tweetpipe
COPY --from=builder /src/target/release/tweetpipe-producer /src/target/release/tweetpipe-consumer /usr/local/bin/
USER 10001:10001
ENV TWEETPIPE_LOG_FORMAT=json \
    TWEETPIPE_HTTP_ADDR=0.0.0.0:9090
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/tweetpipe-consumer"]
CMD ["run"]
