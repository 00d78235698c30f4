#!/bin/sh
# Runs the playback benchmark with a file-descriptor limit high enough for 10,000 WebSockets
# (one per connection in the gateway, one per connection in the client process).
set -e
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "fd limit: $(ulimit -n)"
cd "$(dirname "$0")/../.."
exec npx node tools/playback-bench/bench.ts "$@"
