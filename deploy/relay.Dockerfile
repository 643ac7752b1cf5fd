# signet-relay: the per-cluster admission webhook; small, stateless, non-root.
#   docker build -f deploy/relay.Dockerfile -t signet-relay:0.1.0 .
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
# `kube`: namespace labels from a watch on Namespaces (the manifest grants list/watch).
RUN cargo build --release --locked -p signet-relay --bin signet-relay --features kube \
    && install -D -m 0755 target/release/signet-relay /out/signet-relay

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/signet-relay /usr/local/bin/signet-relay
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/signet-relay"]
CMD ["--listen", "0.0.0.0:8443"]
