/* sched/cgroup: one cgroup per batch and one per task, on cgroup v2, v1 or
 * hybrid (v1 controllers + an empty cgroup2 that tracks and kills), behind
 * one interface. Used by the batch engines (`nicely run`, libnicely's
 * pool) from their loop; the one child-side call, sched_cgroup_child_join,
 * is async-signal-safe. This header is the module's public face: it
 * includes the headers of its files, each declaring what its file exports:
 *   cgroup_batch.h  a batch's groups, the base above them, stale batches
 *   cgroup_task.h   a task's groups: make, join, move, figures, reuse
 *   autogroup.h     the fallback without cgroups (session autogroup nice)
 * Inside the module, cgroup_fs.c (tree detection, paths, files, groups),
 * cgroup_ctl.c (controller files: weight, cpuset, memory, figures) and
 * cgroup_freeze.c (freeze, thaw, kill) are the shim: the only files that
 * know how v1, v2, hybrid and fake trees differ.
 *
 * Tree, under every hierarchy used:  <base>/<user>-<pid>-<n>/task-<seq>
 * where <base> defaults to "nicely" and <pid> is the batch owner's pid, so
 * groups of dead owners can be recognised and cleaned up.
 *
 * The cgroupfs root is /sys/fs/cgroup, or opts.root / $NICELY_CGROUP_ROOT.
 * The kind of tree is detected from its files: <root>/cgroup.controllers
 * means cgroup v2; <root>/<ctrl>/cgroup.procs means a v1 controller
 * (cpu, cpuacct, cpuset, memory, freezer), and with <root>/unified/
 * cgroup.controllers as well, hybrid. A hybrid tree whose cgroup2 groups
 * have cgroup.freeze (kernel 5.2+) freezes through cgroup2 and makes no
 * groups in the v1 freezer (a process joins one hierarchy fewer). A root
 * that is not a cgroup file system (a directory of plain files, for tests)
 * is a "fake" tree: files are created on write, a new group gets empty
 * copies of its parent's file names (as the kernel would give it its
 * interface files), and removing a group unlinks its files first. Every
 * mkdir, write and rmdir the module does can be logged, one line each, to
 * opts.trace_path / $NICELY_CGROUP_TRACE: "mkdir REL", "write REL VALUE",
 * "rmdir REL", with REL relative to the root.
 *
 * Weight classes (policy/preset.h), written to the base, batch and task
 * groups (the base takes the most demanding class of its live batches,
 * because the base is what competes with other users' work):
 *   IDLE:   v1 cpu.shares=2 then cpu.idle=1 (when the kernel has cpu.idle);
 *           v2 cpu.weight=1 then cpu.idle=1 (idle set last: the kernel
 *           refuses shares on a group that is already idle)
 *   LOW:    v1 cpu.shares=64, v2 cpu.weight=6 (1/16 of the default, the
 *           same ratio in both: 64/1024 and 6/100)
 *   NORMAL: the kernel defaults (1024 / 100), idle 0.
 * A memory limit sets memory.limit_in_bytes then memory.memsw.limit_in_bytes
 * (v1) or memory.max then memory.swap.max=0 (v2): the limit holds even
 * where swap exists, so an over-limit task is OOM-killed, not swapped.
 */
#ifndef SCHED_CGROUP_H
#define SCHED_CGROUP_H

#include "sched/autogroup.h"
#include "sched/cgroup_batch.h"
#include "sched/cgroup_task.h"

#endif
