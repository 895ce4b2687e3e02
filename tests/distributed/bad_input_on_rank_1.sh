#!/bin/sh
# One rank of `mpirun -np 2 bad_input_on_rank_1.sh GPURNN ARGS...`: runs GPURNN ARGS..., and on
# rank 1 adds a --text file that does not exist (bad input on one rank only).
gpurnn="$1"
shift
if [ "${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}" = 1 ]; then
  exec "$gpurnn" "$@" --text /nonexistent/corpus.txt
fi
exec "$gpurnn" "$@"
