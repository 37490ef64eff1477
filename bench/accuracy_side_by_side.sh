#!/usr/bin/env bash
# The accuracy benchmark (bench/accuracy.py) split into processes that share one GPU, so
# that a lent GPU machine runs the whole protocol within a short lease: a host-bound
# `paper` training step leaves the GPU idle most of the time, and sixteen cores can feed it
# from many processes at once.
#
#   bench/accuracy_side_by_side.sh SECONDS [accuracy.py options shared by every process]
#
# One pretraining process per scene and arm (random, MRS; --pretrain-seed 0, shared by
# the fine-tuning seeds); when one ends, one process per seed fine-tunes on it. The arm
# without pretraining starts at once, niced. Every process stops SECONDS after the start
# less a reserve, and a last process sums up what finished (bench/results/accuracy.md and
# accuracy.json); each process's output is in bench/results/side_by_side/.
# SCENES (default "trento_sim trento_sar_sim"), SEEDS ("0 1 2 3 4") and BUDGETS ("5,20";
# then "all" for SEEDS_ALL, "0 1 2", while time is left) choose the runs.
set -u
cd "$(dirname "$0")/.."
seconds=${1:-}
if [[ ! $seconds =~ ^[0-9]+$ ]]; then
    echo "usage: bench/accuracy_side_by_side.sh SECONDS [accuracy.py options shared by every process]" >&2
    exit 2
fi
shift
options=("$@")
deadline=$(($(date +%s) + seconds - 20))
scenes=${SCENES:-trento_sim trento_sar_sim}
seeds=${SEEDS:-0 1 2 3 4}
seeds_all=${SEEDS_ALL:-0 1 2}
budgets=${BUDGETS:-5,20}
logs=bench/results/side_by_side
mkdir -p "$logs"
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1

# One accuracy.py process, stopped at the deadline; $1 names its log.
run() {
    local name=$1 left=$((deadline - $(date +%s)))
    shift
    if ((left <= 0)); then
        echo "$name: no time left" >>"$logs/$name.log"
        return
    fi
    timeout "$left" python3 bench/accuracy.py --pretrain-seed 0 "$@" "${options[@]}" >>"$logs/$name.log" 2>&1
    echo "$name: exit $? at $(date +%T)" >>"$logs/$name.log"
}

# Pretraining of one scene and arm, then one fine-tuning process per seed.
pretrained_arm() {
    local scene=$1 arm=$2 seed
    run "$scene-$arm-pretrain" --scenes "$scene" --arms "$arm" --seeds 0 --budgets ""
    for seed in $seeds; do
        run "$scene-$arm-$seed" --scenes "$scene" --arms "$arm" --seeds "$seed" --budgets "$budgets" &
    done
    wait
    for seed in $seeds_all; do
        run "$scene-$arm-$seed-all" --scenes "$scene" --arms "$arm" --seeds "$seed" --budgets all &
    done
    wait
}

unpretrained() {
    local scene=$1 seed=$2
    run "$scene-none-$seed" --scenes "$scene" --arms none --seeds "$seed" --budgets "$budgets"
    if [[ " $seeds_all " == *" $seed "* ]]; then
        run "$scene-none-$seed-all" --scenes "$scene" --arms none --seeds "$seed" --budgets all
    fi
}

for scene in $scenes; do
    for arm in random mrs; do
        pretrained_arm "$scene" "$arm" &
    done
    for seed in $seeds; do
        nice -n 10 bash -c "$(declare -p deadline logs options seeds_all budgets); $(declare -f run unpretrained); unpretrained $scene $seed" &
    done
done
wait
python3 bench/accuracy.py --report-only --pretrain-seed 0 --scenes "$(echo $scenes | tr ' ' ,)" \
    --seeds "$(echo $seeds | tr ' ' ,)" --budgets "$budgets,all" "${options[@]}" >"$logs/report.log" 2>&1
echo "report: exit $?" >>"$logs/report.log"
