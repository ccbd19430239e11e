# Subgraph images for compose.yaml: `docker build --build-arg SUBGRAPH=identity .`
FROM rust:1.95-bookworm AS build
ARG SUBGRAPH
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p ${SUBGRAPH}

FROM debian:bookworm-slim
ARG SUBGRAPH
RUN useradd --system --uid 10001 cityos
COPY --from=build /src/target/release/${SUBGRAPH} /usr/local/bin/subgraph
USER cityos
ENTRYPOINT ["/usr/local/bin/subgraph"]
CMD ["serve"]
