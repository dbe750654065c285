#!/bin/sh
# A rank that dies in the middle of a step (test_mpi crash): mpirun must end
# the whole job with a failure status instead of leaving rank 0 waiting in
# the gradient allreduce. A hang is caught by meson's timeout.
# usage: crash.sh MPIRUN TEST_MPI
out=$("$1" --allow-run-as-root --oversubscribe -np 2 "$2" crash 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -eq 0 ]; then
  echo "FAIL: mpirun exited 0 although rank 1 died"
  exit 1
fi
if ! printf '%s\n' "$out" | grep -q "rank 1: dying in the middle of step 2"; then
  echo "FAIL: the job failed before rank 1 reached the planned crash"
  exit 1
fi
if printf '%s\n' "$out" | grep -q "returned without"; then
  echo "FAIL: an allreduce completed without the dead rank"
  exit 1
fi
echo "ok: mpirun ended the job (status $rc) after rank 1 died mid-step"
