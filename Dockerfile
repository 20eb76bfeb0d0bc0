# Images of the control plane, one build for both processes:
#   docker build --target director -t controlplane-director .
#   docker build --target agent    -t controlplane-agent .
# Tags are pinned to the patch releases the repository is built and tested with (SDK 10.0.401, runtime
# 10.0.12); override with --build-arg to move, e.g. --build-arg DOTNET_RUNTIME_TAG=10.0.13.
ARG DOTNET_SDK_TAG=10.0.401
ARG DOTNET_RUNTIME_TAG=10.0.12

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_SDK_TAG} AS build
WORKDIR /src
# Project files first: the restore layer stays cached until a project or a central version changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY Contracts/Contracts.csproj Contracts/
COPY ZooKeeper/ZooKeeper.csproj ZooKeeper/
COPY Etcd/Etcd.csproj Etcd/
COPY Coordination/Coordination.csproj Coordination/
COPY ControlPlane/ControlPlane.csproj ControlPlane/
COPY Agents/Agents.csproj Agents/
COPY Cli/Cli.csproj Cli/
RUN dotnet restore ControlPlane/ControlPlane.csproj \
 && dotnet restore Agents/Agents.csproj \
 && dotnet restore Cli/Cli.csproj
COPY . .
# Framework-dependent publishes: the runtime comes from the base images below, patched by pulling them.
RUN dotnet publish ControlPlane/ControlPlane.csproj -c Release --no-restore -o /out/director \
 && dotnet publish Agents/Agents.csproj -c Release --no-restore -o /out/agent \
 && dotnet publish Cli/Cli.csproj -c Release --no-restore -o /out/cpctl

# The agent: only the .NET runtime (its optional HTTP port, Agent:Http:Port, is the runtime's HttpListener).
# Shell jobs run as the same non-root user as the agent.
FROM mcr.microsoft.com/dotnet/runtime:${DOTNET_RUNTIME_TAG} AS agent
# The shell executor starts every job through util-linux setsid and setpriv (Agents/Options/ShellExecutorOptions.cs):
# fail the build here, not the first job, if a base image ever lacks them (chiseled images do).
RUN test -x /usr/bin/setsid && test -x /usr/bin/setpriv
WORKDIR /app
COPY --from=build /out/agent ./
# APP_UID (1654, user "app") is defined by the .NET base images; numeric so runAsNonRoot checks pass.
USER $APP_UID
ENTRYPOINT ["dotnet", "ControlPlane.Agents.dll"]

# The director, with cpctl on PATH (docker compose exec director-1 cpctl cluster).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_RUNTIME_TAG} AS director
# The .NET runtime images ship neither curl nor wget; the health check needs one HTTP client.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out/director ./
COPY --from=build /out/cpctl /opt/cpctl/
RUN printf '#!/bin/sh\nexec dotnet /opt/cpctl/cpctl.dll "$@"\n' >/usr/local/bin/cpctl \
 && chmod 755 /usr/local/bin/cpctl
# Inside the container the API listens on all interfaces; docker-compose.yml publishes it on loopback only.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    CONTROLPLANE_URL=http://127.0.0.1:8080
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=6 \
  CMD curl -fsS -o /dev/null http://localhost:8080/readyz || exit 1
ENTRYPOINT ["dotnet", "ControlPlane.Director.dll"]
