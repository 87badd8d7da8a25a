FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .
ENV OMG_HOME=/data OMG_HOST=0.0.0.0
EXPOSE 8080 8081 9901
CMD ["omg", "up"]
