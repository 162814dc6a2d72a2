#!/usr/bin/env bash
# Builds what the local run needs and runs the whole product on this machine:
# a real Kafka broker, the topics, a Flink MiniCluster (web UI on http://localhost:8081),
# ingest-job, segmentation-job and the simulator. Options: ./run-local.sh --help
set -euo pipefail
cd "$(dirname "$0")"
echo "building (first run downloads dependencies; later runs take seconds)..."
rm -rf local-runner/target/lib   # copied dependencies of an earlier build must not linger next to new ones
mvn -B -q -ntp -DskipTests -pl local-runner -am install
# The jobs keep their state in this JVM's heap (conf/flink/local), with the broker beside them. G1 promotes what
# survives after two young collections instead of copying it up to 15 times: LatencyBenchmark at 4,000 events/s,
# young pauses 38-39 -> 20-24 ms and p99 82-86 -> 45-47 ms (README, Latency).
exec java -Xmx3g -XX:MaxTenuringThreshold=2 -jar local-runner/target/local-runner.jar "$@"
