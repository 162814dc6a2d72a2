#!/usr/bin/env bash
# Builds what the local run needs and runs the whole product on this machine:
# a real Kafka broker, the topics, a Flink MiniCluster (web UI on http://localhost:8081),
# ingest-job, segmentation-job and the simulator. Options: ./run-local.sh --help
set -euo pipefail
cd "$(dirname "$0")"
echo "building (first run downloads dependencies; later runs take seconds)..."
rm -rf local-runner/target/lib   # copied dependencies of an earlier build must not linger next to new ones
mvn -B -q -ntp -DskipTests -pl local-runner -am install
exec java -Xmx3g -jar local-runner/target/local-runner.jar "$@"
