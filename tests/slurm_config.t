#!/bin/bash
# The [slurm] config section and the --on / --slurm-* options, without a
# cluster: accepted keys, errors naming file:line, usage errors.
. "$(dirname "$0")/lib/run-common.sh"

printf '[slurm]\npartition = short\naccount = lab\ntime = 10\noptions = --mem=1G\ndir = /tmp/x\n' >"$T/good.conf"
NICELY_CONFIG="$T/good.conf" "$NICELY" check-config >/dev/null 2>&1
ok $? "[slurm] with every key is accepted"

printf '[slurm]\npartition = short\nqueue = long\n' >"$T/bad.conf"
err=$(NICELY_CONFIG="$T/bad.conf" "$NICELY" run true ::: 1 2>&1)
is "$?" 255 "unknown [slurm] key: exit 255"
case "$err" in
*"$T/bad.conf:3"*"unknown key 'queue' in [slurm]"*) ok 0 "unknown [slurm] key: named with file:line" ;;
*) ok 1 "unknown [slurm] key: named with file:line"; diag "$err" ;;
esac

printf '[slurm]\ndir = relative/path\n' >"$T/rel.conf"
err=$(NICELY_CONFIG="$T/rel.conf" "$NICELY" run true ::: 1 2>&1)
case "$err" in
*"$T/rel.conf:2"*"not an absolute path"*) ok 0 "[slurm] dir must be absolute" ;;
*) ok 1 "[slurm] dir must be absolute"; diag "$err" ;;
esac

err=$("$NICELY" run --slurm-opt '--mem=1G' true ::: 1 2>&1)
is "$?" 255 "--slurm-opt without --on slurm: usage error"
err=$("$NICELY" run --on mars true ::: 1 2>&1)
case "$err" in
*"--on: 'mars' is not slurm or local"*) ok 0 "--on: unknown backend named" ;;
*) ok 1 "--on: unknown backend named"; diag "$err" ;;
esac
err=$("$NICELY" run --on slurm --slurm-chunk 0 true ::: 1 2>&1)
is "$?" 255 "--slurm-chunk 0: usage error"
out=$("$NICELY" run --on local -p nuclear 'echo {}' ::: a b 2>&1)
is "$(echo $out)" "a b" "--on local runs here"
# --on slurm where sbatch is missing: a clear error, nothing runs
err=$(HOME="$T" PATH=/nonexistent "$NICELY" run --on slurm true ::: 1 2>&1)
rc=$?
is "$rc" 255 "--on slurm without sbatch: exit 255"
case "$err" in
*"sbatch is not installed"*) ok 0 "--on slurm without sbatch: said" ;;
*) ok 1 "--on slurm without sbatch: said"; diag "$err" ;;
esac
is "$(ls -A "$T/.nicely/slurm" 2>/dev/null)" "" "--on slurm without sbatch: no batch directory left"
finish
