# Multi-stage build: cargo-chef caches the dependency layer, the runtime image is slim and
# runs as a non-root user. The binary needs no libpq and no OpenSSL.

FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin talentcard

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin talentcard
WORKDIR /app
COPY --from=builder /app/target/release/talentcard /usr/local/bin/talentcard
COPY config ./config
USER talentcard
# Production refuses the development secrets of config/local.toml: pass
# TALENTCARD__SECRETS__* and DATABASE_URL at run time.
ENV TALENTCARD_ENV=production
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["talentcard"]
CMD ["serve", "--bind", "0.0.0.0:8080"]
