# ticket-router: a slim, non-root image with the default model built in.
#   docker build -t ticket-router:0.1.0 .
#
# Stages, each cached on its own:
#   deps    the runtime dependencies (pyproject.toml's, at deploy/constraints.txt's
#           versions) in /opt/venv: rebuilt only when they or the constraints change
#   model   the default model, from classifiers/ alone, built with the build extra
#           (faker, wordfreq: 88 MB the runtime does not need) installed into this
#           stage's venv only: rebuilt only when classifiers/ changes
#   wheel   the project's wheel, with the pinned build backend
#   runtime the slim base + the venv + the model + the wheel; no pip, no build tools
#
# The base: Python 3.11 on Debian 12, by tag and digest (the digest fixes the exact
# image; to move to a newer one: docker buildx imagetools inspect python:3.11-slim-bookworm).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

FROM ${PYTHON_IMAGE} AS base
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1

# pyproject.toml's runtime dependencies, and its build extra, as requirements files:
# copied into deps and model by their content, so an edit elsewhere in pyproject.toml (a
# test tool, a lint rule) keeps those layers cached.
FROM base AS requirements
COPY pyproject.toml /src/
RUN python -c "import tomllib; p = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']; open('/requirements.txt', 'w').write('\n'.join(p['dependencies']) + '\n'); open('/build-requirements.txt', 'w').write('\n'.join(p['optional-dependencies']['build']) + '\n')"

FROM base AS deps
WORKDIR /src
COPY --from=requirements /requirements.txt ./
COPY deploy/constraints.txt ./
# The venv gets no pip of its own: the base image's pip installs into it (--python).
RUN python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --requirement requirements.txt --constraint constraints.txt

FROM deps AS model
WORKDIR /src
# The build extra goes into this stage's venv only: the runtime copies /opt/venv from
# deps, without it.
COPY --from=requirements /build-requirements.txt ./
RUN pip --python /opt/venv/bin/python install --requirement build-requirements.txt --constraint constraints.txt
# classifiers/ imports nothing from router/ or queues/, so a change there does not
# rebuild the model (about 15 s). The model is written owner-only (0700, 0600) by root:
# made readable, or the service's user could not load it.
COPY classifiers ./classifiers
RUN PYTHONPATH=/src /opt/venv/bin/python -c "from pathlib import Path; from classifiers.build import build_default_model; build_default_model(Path('/opt/model'), progress=print)" \
 && chmod -R a+rX /opt/model

FROM base AS wheel
WORKDIR /src
COPY deploy/constraints.txt ./
# The build backend at its pinned version, without build isolation (which would take the
# newest setuptools from the index).
RUN grep -E '^(setuptools|wheel)==' constraints.txt > build-requirements.txt \
 && python -m venv /opt/build \
 && /opt/build/bin/pip install --requirement build-requirements.txt --constraint constraints.txt
COPY pyproject.toml README.md LICENSE ./
COPY router ./router
COPY classifiers ./classifiers
COPY queues ./queues
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .

FROM base AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="ticket-router" \
      org.opencontainers.image.description="Routes customer-support tickets to in-house and outsourced agent pools" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# /models: where a mounted model volume goes (docs/kubernetes.md, the compose file); owned
# by the service's user so that a new Docker volume mounted there is writable by it.
RUN groupadd --system --gid 10001 router \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin router \
 && install -d -o 10001 -g 10001 /models
COPY --from=deps /opt/venv /opt/venv
COPY --from=model /opt/model /opt/model
COPY --from=wheel /wheels /tmp/wheels
# The project itself (no dependencies: they are in the venv), then pip and the build
# tools of the base image are removed: nothing in the running service installs packages.
RUN pip --python /opt/venv/bin/python install --no-deps /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels \
 && python -m pip uninstall --yes pip setuptools wheel
COPY deploy/config.example.yaml /etc/ticket-router/config.yaml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    ROUTER_MODEL_DIR=/opt/model \
    ROUTER_CONFIG=/etc/ticket-router/config.yaml \
    ROUTER_HTTP_PORT=8080
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ROUTER_HTTP_PORT', '8080'), timeout=2)"]
# SIGTERM drains in-flight tickets (up to 25 s); give it that long before SIGKILL
# (docker stop -t 30, compose stop_grace_period, Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["ticket-router"]
CMD ["serve"]
