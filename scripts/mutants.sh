#!/usr/bin/env bash
# Mutation testing of the consensus core and the runtime's persistence order: proves the tests
# have teeth. Each mutant is a small, realistic bug kept as a patch under scripts/mutants/
# (its first line says what it breaks). One at a time, a mutant is applied to a scratch copy of
# this working tree, built (release, through /work/bin/swiftslot when present) and run against
#   1. the deterministic tests: RaftCoreTests without the randomized suite (and, for mutants of
#      Sources/Raft, the runtime's PipelineTests and RuntimeScenarioTests),
#   2. the randomized core tests (RandomizedSafetyTests) at CI's seed counts (RAFT_SEEDS
#      overrides them, as it does in CI),
#   3. a short raft-sim sweep with every fault kind on, as CI's SimulationSweepTests runs it
#      (--sim-seeds, default 100, stopping at the first failing seed).
# The stages stop at the first that kills the mutant unless --every-stage is given, which runs
# all three (how the seeds each randomized test needs are measured). Then the patch is reversed;
# the scratch copy and its .build are reused by the next mutant and the next run.
#
# Prints a table (mutant, what killed it, time), the kill rate, and exits 1 when a mutant
# survives or does not apply. It takes long (a release build per mutant): run it by hand, not
# in .ci/run.
#
#   scripts/mutants.sh [--every-stage] [--sim-seeds N] [--sim-ticks N] [MUTANT ...]
#
# MUTANT_SCRATCH sets the scratch folder (default ${TMPDIR:-/tmp}/swift-raft-mutants); logs
# and a TSV of the results go to $MUTANT_SCRATCH/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

every_stage=0
sim_seeds=100
sim_ticks=20000
selected=()
while [ $# -gt 0 ]; do
    case "$1" in
        --every-stage) every_stage=1 ;;
        --sim-seeds) sim_seeds="$2"; shift ;;
        --sim-ticks) sim_ticks="$2"; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) selected+=("$1") ;;
    esac
    shift
done

scratch="${MUTANT_SCRATCH:-${TMPDIR:-/tmp}/swift-raft-mutants}"
logs="$scratch/logs"
# Every build and test run takes a machine-wide build slot; MUTANT_HOLDS_SLOT=1 says the whole
# script already runs inside one (`swiftslot scripts/mutants.sh`), so it does not queue per step.
slot=()
[ -x /work/bin/swiftslot ] && [ "${MUTANT_HOLDS_SLOT:-0}" != 1 ] && slot=(/work/bin/swiftslot)

patches=()
if [ ${#selected[@]} -eq 0 ]; then
    for patch in "$repo"/scripts/mutants/*.patch; do patches+=("$patch"); done
else
    for name in "${selected[@]}"; do patches+=("$repo/scripts/mutants/${name%.patch}.patch"); done
fi

# A copy of the working tree without .git and build folders. tar keeps modification times, so
# files that did not change are not rebuilt.
mkdir -p "$scratch" "$logs"
tar -C "$repo" --exclude='./.build*' --exclude=./.git --exclude='./Benchmarks/.build*' -cf - . | tar -C "$scratch" -xf -
cd "$scratch"
# The scratch package keeps only the targets the stages use, so a mutant rebuilds less (the
# transport, its tests and the storage-only test targets do not see RaftCore's quorum rules).
python3 - <<'TRIM'
import re
path = "Package.swift"
text = open(path).read()
def drop_call(text, kind, name):
    match = re.search(r'\n\s*\.' + kind + r'\(\s*name: "' + name + '"', text)
    if not match:
        return text
    depth, end = 0, match.start()
    for end in range(text.index("(", match.start()), len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            break
    end += 1
    if text[end] == ",":
        end += 1
    return text[:match.start()] + text[end:]
# The transport, the servers and everything built on them (raftkv, the example, their
# process tests) do not see RaftCore's quorum rules either.
for name in ["WALTests", "SnapshotTests", "RaftNIOTests", "RaftSimulationTests", "RaftKVProcessTests", "RaftKVTests"]:
    text = drop_call(text, "testTarget", name)
for name in ["raftkv", "ReplicatedCounter"]:
    text = drop_call(text, "executableTarget", name)
    text = drop_call(text, "executable", name)
text = drop_call(text, "target", "RaftNIO")
text = drop_call(text, "library", "RaftNIO")
open(path, "w").write(text)
TRIM

seconds_since() { echo $(($(date +%s) - $1)); }

build() {
    # `swift test list` builds the tests with testable imports, and raft-sim with them.
    "${slot[@]}" swift test list -c release >"$1" 2>&1
}

# The failing tests named in swift test output, or the crash that stopped it.
failing_tests() {
    local log="$1" names
    # Display-named tests print as ✘ Test "Name", the others as ✘ Test name().
    names=$(grep -E '^✘ Test ' "$log" | grep -v '^✘ Test run with' | grep ' failed after ' | sed -E 's/^✘ Test (.*) failed after .*/\1/; s/^"(.*)"$/\1/' | sort -u || true)
    if [ -n "$names" ]; then
        echo "$names" | head -n 3 | cut -c1-90 | paste -sd ';' -
    elif grep -qE 'signal|Fatal error|crashed' "$log"; then
        echo "crash: $(grep -m1 -E 'Fatal error|signal' "$log" | cut -c1-80)"
    else
        echo "test run failed (see log)"
    fi
}

# Stage 1: deterministic tests.
deterministic_stage() {
    local patch="$1" log="$2" filter='RaftCoreTests'
    grep -q '^+++ b/Sources/Raft/' "$patch" && filter='RaftCoreTests|RaftTests\.(PipelineTests|RuntimeScenarioTests)'
    if timeout --kill-after=30 1200 "${slot[@]}" swift test -c release --skip-build --filter "$filter" \
        --skip 'RandomizedSafetyTests' >"$log" 2>&1; then
        return 1
    fi
    echo "test: $(failing_tests "$log")"
}

# Stage 2: the randomized core tests; each stops at its first failing seed and names it.
randomized_stage() {
    local log="$1"
    if timeout --kill-after=30 3600 "${slot[@]}" swift test -c release --skip-build --filter 'RandomizedSafetyTests' \
        >"$log" 2>&1; then
        return 1
    fi
    local seeds
    seeds=$(grep -oE 'seed [0-9]+ \([^;]*; rerun' "$log" | sed -E 's/seed ([0-9]+) \(([^;]*); rerun/\2 seed \1/' | sort -u | paste -sd ';' - || true)
    if [ -n "$seeds" ]; then echo "randomized: $seeds"; else echo "randomized: $(failing_tests "$log")"; fi
}

# Stage 3: a raft-sim sweep, stopping at the first failing seed.
simulation_stage() {
    local log="$1"
    if timeout --kill-after=30 3600 .build/release/raft-sim --seeds "$sim_seeds" --ticks "$sim_ticks" --every-fault --fail-fast >"$log" 2>&1; then
        return 1
    fi
    local seed
    seed=$(grep -oE 'FAILED: raft-sim --seed [0-9]+' "$log" | head -n 1 | grep -oE '[0-9]+$' || true)
    if [ -n "$seed" ]; then echo "raft-sim: seed $seed"; else echo "raft-sim: exited non-zero (see log)"; fi
}

started=$(date +%s)
echo "== baseline: build and run the deterministic tests on the unmutated code"
if ! build "$logs/baseline-build.log"; then
    echo "the unmutated code does not build: see $logs/baseline-build.log"
    exit 1
fi
if ! "${slot[@]}" swift test -c release --skip-build --filter 'RaftCoreTests|RaftTests\.(PipelineTests|RuntimeScenarioTests)' \
    --skip 'RandomizedSafetyTests' >"$logs/baseline-tests.log" 2>&1; then
    echo "the deterministic tests fail on the unmutated code: see $logs/baseline-tests.log"
    exit 1
fi
echo "   baseline ok ($(seconds_since "$started") s)"

results="$logs/results.tsv"
printf 'mutant\tkilled by\tseconds\n' >"$results"
killed=0
total=0
failed_to_apply=0
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    total=$((total + 1))
    mutant_started=$(date +%s)
    echo "== $name: $(head -n 1 "$patch")"
    if ! git apply --check "$patch" 2>"$logs/$name-apply.log"; then
        echo "   does not apply: $(head -n 1 "$logs/$name-apply.log")"
        printf '%s\t%s\t%s\n' "$name" "DOES NOT APPLY" 0 >>"$results"
        failed_to_apply=$((failed_to_apply + 1))
        continue
    fi
    git apply "$patch"
    killers=()
    if ! build "$logs/$name-build.log"; then
        killers+=("does not compile")
    else
        if verdict=$(deterministic_stage "$patch" "$logs/$name-deterministic.log"); then killers+=("$verdict"); fi
        if [ $every_stage -eq 1 ] || [ ${#killers[@]} -eq 0 ]; then
            if verdict=$(randomized_stage "$logs/$name-randomized.log"); then killers+=("$verdict"); fi
        fi
        if [ $every_stage -eq 1 ] || [ ${#killers[@]} -eq 0 ]; then
            if verdict=$(simulation_stage "$logs/$name-raft-sim.log"); then killers+=("$verdict"); fi
        fi
    fi
    git apply -R "$patch"
    elapsed=$(seconds_since "$mutant_started")
    if [ ${#killers[@]} -gt 0 ]; then
        killed=$((killed + 1))
        verdict=$(printf '%s | ' "${killers[@]}")
        verdict=${verdict% | }
    else
        verdict="SURVIVED"
    fi
    echo "   $verdict (${elapsed} s)"
    printf '%s\t%s\t%s\n' "$name" "$verdict" "$elapsed" >>"$results"
done
# Rebuild the unmutated code, so the scratch .build matches the sources it holds.
build "$logs/final-build.log" || true

echo
echo "| mutant | killed by | time (s) |"
echo "|---|---|---|"
tail -n +2 "$results" | while IFS=$'\t' read -r name verdict elapsed; do
    echo "| $name | $verdict | $elapsed |"
done
echo
echo "killed $killed of $total mutants ($((total == 0 ? 0 : 100 * killed / total))%), $(seconds_since "$started") s in all; logs in $logs"
[ "$killed" -eq "$total" ] && [ "$failed_to_apply" -eq 0 ]
