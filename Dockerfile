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
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake libssl-dev pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin tweetpipe-producer --bin tweetpipe-consumer

FROM debian:bookworm-slim AS runtime
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
