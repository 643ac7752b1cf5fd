# signet-verifier: build with the workspace, run on a distroless glibc base as a
# non-root numeric user. Build from the repository root:
#   docker build -f deploy/verifier.Dockerfile -t signet-verifier:0.1.0 .
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p signet-verifier --bin signet-verifier \
    && install -D -m 0755 target/release/signet-verifier /out/signet-verifier \
    && mkdir -p /out/data

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/signet-verifier /usr/local/bin/signet-verifier
COPY --from=build --chown=65532:65532 /out/data /var/lib/signet
USER 65532:65532
EXPOSE 8080 50051
ENTRYPOINT ["/usr/local/bin/signet-verifier"]
CMD ["--http-addr", "0.0.0.0:8080", "--grpc-addr", "0.0.0.0:50051", "--data-dir", "/var/lib/signet"]
