# One image per service, built from the workspace root:
#   docker build --build-arg SERVICE=gateway -t dialplane-gateway .
# SERVICE is the workspace member (gateway, dialer, ari-bridge, ai-agent); MODULE its import name.
# The dependency layer is cached apart from the code: it only changes when uv.lock or a pyproject does.
FROM python:3.11-slim-bookworm
ARG SERVICE
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3.11 \
    PATH="/app/.venv/bin:$PATH" DIALPLANE_HOST=0.0.0.0 DIALPLANE_LOG_JSON=true
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY services/pyproject.toml services/pyproject.toml
COPY gateway/pyproject.toml gateway/pyproject.toml
COPY dialer/pyproject.toml dialer/pyproject.toml
COPY ari-bridge/pyproject.toml ari-bridge/pyproject.toml
COPY ai-agent/pyproject.toml ai-agent/pyproject.toml
RUN uv sync --frozen --no-dev --no-install-workspace --package "dialplane-${SERVICE}"
COPY services services
COPY ${SERVICE} ${SERVICE}
RUN uv sync --frozen --no-dev --package "dialplane-${SERVICE}" \
    && echo "${SERVICE}" | tr - _ > /app/.module
USER nobody
CMD ["sh", "-c", "exec python -m $(cat /app/.module)"]
