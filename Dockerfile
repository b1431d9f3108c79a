# Baton in a container: a Swift image builds the release binary (Swift runtime linked
# statically), a slim Debian image runs it as a non-root user.
#
#   docker build -t baton .
#   docker run -d -p 8080:8080 -v baton-data:/data -e BATON_TOKEN=change-me baton
#
# The server listens on 0.0.0.0 inside the container, so it refuses to start without a
# token (BATON_TOKEN, or --token-file with a mounted secret).

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd-dev libsqlite3-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifest first so the dependency fetch is cached across source changes.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product baton --static-swift-stdlib \
    && install -D .build/release/baton /out/baton

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libmicrohttpd12 libsqlite3-0 libpq5 libcurl4 libstdc++6 ca-certificates tzdata curl tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/baton baton \
    && mkdir -p /data && chown baton:baton /data
COPY --from=build /out/baton /usr/local/bin/baton
USER baton
WORKDIR /home/baton
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# tini as PID 1 reaps the orphans of killed task groups (Baton reaps its own children).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/baton"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data-dir", "/data"]
