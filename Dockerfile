# `tenx serve` in a container (issue 75): the whole service on one port, its embedded store and
# queue on a volume at /data. scripts/docker_run.sh builds and starts it with podman or docker;
# README.md, "Quickstart", shows the commands.
#
#   docker build -t tenx .
#   docker run -d --name tenx -p 8080:8080 -v tenx-data:/data \
#     -e TENX_PUBLIC_URL=http://localhost:8080 tenx
#
# Build stage: the release profile of the root Cargo.toml (thin LTO, 16 codegen units), the
# locked dependencies, only the `tenx` binary.
FROM docker.io/library/rust:1-slim-bookworm AS build
# make: jemalloc's C build (tikv-jemalloc-sys); cmake: aws-lc-sys's fallback build. The image
# already has gcc and libc6-dev.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin tenx

# Runtime stage: Debian's slim image (the same glibc as the build stage), the CA roots for the
# outgoing HTTPS calls (webhooks, postbacks, OpenID Connect, SMTP over TLS), a user of its own.
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home tenx \
 && mkdir -p /data \
 && chown tenx:tenx /data
COPY --from=build /src/target/release/tenx /usr/local/bin/tenx
USER tenx
# Every `tenx` command run in the container (`docker exec tenx tenx token …`, `tenx setup`,
# `tenx status`) finds the server's data dir.
ENV TENX_DATA_DIR=/data
# The store, the queue, the generated secrets and the Maildir: kept across containers on the
# volume mounted here.
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["tenx"]
# On every interface of the container (the port published by `-p`). Pass TENX_PUBLIC_URL, the
# origin the service is reached at, which the links in its mail are absolute to.
CMD ["serve", "--addr", "0.0.0.0:8080", "--data-dir", "/data"]
