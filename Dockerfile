# ticket-router: slim, non-root image with the default model built in.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY router ./router
COPY classifiers ./classifiers
COPY queues ./queues
RUN python -m venv /opt/venv && /opt/venv/bin/pip install . \
 && /opt/venv/bin/ticket-router build-default-model --out /opt/model

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app router
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/model /opt/model
COPY deploy/config.example.yaml /etc/ticket-router/config.yaml
ENV PATH=/opt/venv/bin:$PATH \
    ROUTER_MODEL_DIR=/opt/model \
    ROUTER_CONFIG=/etc/ticket-router/config.yaml \
    ROUTER_HTTP_PORT=8080 \
    PYTHONUNBUFFERED=1
USER router
WORKDIR /app
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ROUTER_HTTP_PORT','8080'), timeout=2)" || exit 1
# SIGTERM drains in-flight tickets; give it the grace period before SIGKILL.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ticket-router"]
CMD ["serve"]
