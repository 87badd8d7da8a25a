# One image for every gateway process: `omg up` (all in one, the default command) or, as in
# docker-compose.yml and deploy/k8s, one process per container (`python -m control_plane.main`,
# `python -m ext_proc.main`, `omg envoy`, `omg init`).
FROM python:3.11.10-slim
WORKDIR /app
COPY . .
# Editable: `omg envoy`/`omg up` read envoy/bootstrap.yaml from the source tree.
RUN pip install --no-cache-dir -e . && scripts/repair-otel-protos python \
    && useradd --uid 10001 --create-home omg && mkdir -p /data && chown omg /data
USER 10001
ENV OMG_HOME=/data OMG_HOST=0.0.0.0
EXPOSE 8080 8081 9901 9464 18000 50051
CMD ["omg", "up"]
