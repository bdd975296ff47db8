# Heliograph's checker, to run checks from a machine of your own on a steady beat (README,
# "Checking from anywhere"). It checks every 60 s and pushes the results every 5 minutes to the
# site repository mounted at /site, until stopped (SIGTERM finishes the round and pushes first).
#
#   docker build -t heliograph .
#   docker run -d --restart unless-stopped -v "$PWD:/site" -e GIT_ASKPASS=... heliograph
#
# Stage 1 builds the wheel from this checkout; stage 2 installs only that wheel.
FROM python:3.12-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md CHANGELOG.md ./
COPY generator ./generator
COPY templates ./templates
COPY .github/workflows ./.github/workflows
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
# git to commit and push the results; ssh for a deploy key, ca-certificates for https.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 heliograph
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER heliograph
# The mounted site is owned by another user: git must still work in it.
RUN git config --global --add safe.directory /site
WORKDIR /site
ENV HELIOGRAPH_LOCATION=container
ENTRYPOINT ["heliograph"]
CMD ["check", "--every", "60s", "--push", "--push-every", "5m"]
