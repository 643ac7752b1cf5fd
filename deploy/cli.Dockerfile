# signet: the command line (sign, attest, verify, administer a verifier), for CI jobs.
#   docker build -f deploy/cli.Dockerfile -t signet:0.1.0 .
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p signet --bin signet \
    && install -D -m 0755 target/release/signet /out/signet

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/signet /usr/local/bin/signet
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/signet"]
