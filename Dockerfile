# syntax=docker/dockerfile:1
#
# pg-lockwatch container image.
#
#   docker build -t pg-lockwatch:0.1.0 .
#
# How to run it (targets, users, the incident store volume at /app/data): docs/deployment.md#docker.
# The base images are pinned to a tag; pin them to a digest (eclipse-temurin:17-jre-noble@sha256:...)
# for reproducible production builds.

# ---- build: compile and package the Spring Boot jar, then split it into layers ----
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build

# Only what the build reads (.dockerignore keeps the rest of the context out).
COPY pom.xml ./
COPY src ./src

# -DskipTests: the tests need a real PostgreSQL (embedded, started in a user namespace) that a
# `docker build` sandbox cannot run; CI runs them with `mvn -B -ntp verify` before the image is built.
# The cache mount keeps ~/.m2 between builds (BuildKit) without putting it into a layer, so a rebuild after a
# code change downloads nothing.
RUN --mount=type=cache,target=/root/.m2,sharing=locked \
    mvn -B -ntp package -DskipTests \
 && cp target/pg-lockwatch-*.jar /build/app.jar

# Boot's layered extraction (jarmode "tools", Spring Boot 3.3+ and 4): one directory per layer, and
# --launcher keeps the exploded JarLauncher layout, so the runtime starts without unpacking anything.
RUN java -Djarmode=tools -jar /build/app.jar extract --layers --launcher --destination /build/extracted

# ---- runtime: a JRE only, no Maven, no JDK, no source ----
FROM eclipse-temurin:17-jre-noble

LABEL org.opencontainers.image.title="pg-lockwatch" \
      org.opencontainers.image.description="Watches PostgreSQL lock queues and pages before a schema change takes an API down" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.base.name="eclipse-temurin:17-jre-noble"

# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it and runAsUser/fsGroup 10001 match
# the files the image owns. /app/data holds the default H2 incident store (jdbc:h2:file:./data/...,
# relative to WORKDIR); it is created owned by that user, so a fresh named volume mounted there is
# writable too.
RUN groupadd --system --gid 10001 pglockwatch \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin pglockwatch \
 && mkdir -p /app/data \
 && chown 10001:10001 /app/data

WORKDIR /app

# Least to most often changed, so a code change rebuilds only the last, smallest layer.
COPY --from=build /build/extracted/dependencies/ ./
COPY --from=build /build/extracted/spring-boot-loader/ ./
COPY --from=build /build/extracted/snapshot-dependencies/ ./
COPY --from=build /build/extracted/application/ ./

USER 10001:10001

# 8080: JSON API, dashboard and (unless management.server.port is set) /actuator.
EXPOSE 8080

# Exec form: java is PID 1 and gets SIGTERM directly, so Spring's graceful shutdown runs (finish
# requests, flush incident writes). Memory follows the container limit; an OutOfMemoryError ends
# the process so the orchestrator restarts it instead of leaving a half-working monitor. More JVM
# flags: JDK_JAVA_OPTIONS. No HEALTHCHECK: Kubernetes probes /actuator/health/liveness and /readiness
# itself (docs/deployment.md), and a HEALTHCHECK would need an HTTP client in the image.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75.0", "-XX:+ExitOnOutOfMemoryError", "org.springframework.boot.loader.launch.JarLauncher"]
