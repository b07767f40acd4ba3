#!/usr/bin/env bash
# A servecast sweep as a Slurm job array: task k runs shard k of 8 (sbatch slurm-array.sh), then
#   servecast sweep-merge shards/shard-*.jsonl
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
set -euo pipefail
mkdir -p shards
servecast sweep --gpu a100-80g --model llama-3.1-8b --qps 4,8,16 \
  --axis max_num_seqs=16..512:16 --axis util=0.6..0.95:0.05 --quiet \
  --shard "${SLURM_ARRAY_TASK_ID}/8" -o "shards/shard-${SLURM_ARRAY_TASK_ID}.jsonl"
