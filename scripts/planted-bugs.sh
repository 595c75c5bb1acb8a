#!/usr/bin/env bash
# Proves the simulator has teeth: builds raft-sim four times, each with one planted bug
# (a compile-time condition normal builds never set), and checks that a sweep of seeds
# catches each one (raft-sim exits 1 with a violation). Each build goes to its own scratch
# folder, so the normal build is untouched.
#
#   scripts/planted-bugs.sh [SEEDS]     (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-500}"
status=0
for bug in ACK_BEFORE_FSYNC COMMIT_OLD_TERM FORGET_VOTE EARLY_SELF_ACK; do
    scratch=".build-planted-$(echo "$bug" | tr 'A-Z_' 'a-z-')"
    echo "== RAFT_PLANTED_BUG_$bug"
    swift build -c release --scratch-path "$scratch" -Xswiftc "-DRAFT_PLANTED_BUG_$bug" --product raft-sim >/dev/null 2>&1 \
        || swift build -c release --scratch-path "$scratch" -Xswiftc "-DRAFT_PLANTED_BUG_$bug" --product raft-sim
    if "$scratch/release/raft-sim" --seeds "$seeds" --fail-fast | tail -n 4; then
        echo "NOT CAUGHT: RAFT_PLANTED_BUG_$bug passed $seeds seeds"
        status=1
    else
        echo "caught: RAFT_PLANTED_BUG_$bug"
    fi
done
exit $status
