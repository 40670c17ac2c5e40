# syntax=docker/dockerfile:1
# The faultline image: the `faultline` binary alone on distroless (glibc + libgcc, no
# shell, user 65532). The binary speaks TLS through rustls, so no OpenSSL is needed.
#
#   docker build -t ghcr.io/faultline-rs/faultline:0.1.0 .
#
# The cache mounts need BuildKit (the default builder of current Docker).

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The registry, git checkouts and target/ are cached across builds; the binary is copied
# out of the cached target/ so the next stage can take it.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p faultline \
    && install -D -m 0755 target/release/faultline /out/faultline

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/faultline /usr/local/bin/faultline
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/faultline"]
CMD ["--help"]
