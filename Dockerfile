# The histo command in a Debian 12 image: the CLI published self-contained (the .NET runtime is inside it, with the
# patched libLibTorchSharp.so), OpenSlide, and tcmalloc preloaded as ./histo does. Build it with
#   scripts/build-image.sh [TAG] [podman/docker build options]
# which publishes the CLI into .build/image/histo (with the .NET 10 SDK, as ./histo builds) and then builds this file.
ARG BASE=debian:12-slim
FROM ${BASE}
# The same Debian packages as a host gets from `scripts/install-deps.sh runtime`.
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh image && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh
COPY .build/image/histo/ /opt/histo/
RUN ln -s /opt/histo/Histo.Cli /usr/local/bin/histo
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 \
    OMP_WAIT_POLICY=PASSIVE
CMD ["histo", "--help"]
