# nicely: one plain Makefile. `make`, `make check`, `make demo`,
# `make sanitize`, `make install` (PREFIX, DESTDIR), `make bench`, `make fuzz`,
# `make torture`, `make soak`.
# The C files under agent/ policy/ sched/ (not its subfolders) are the core
# every face shares; sched/lib/ is libnicely's own (with the core it makes
# libnicely.so, which links no CLI code); sched/cli/ is the `nicely`
# command's; sched/agentd/ is nicely-agent's. Files named main_*.c are programs. Every tests/*.c is one TAP test program, every
# tests/helpers/*.c a helper program tests run, every bench/*.c a benchmark.

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
DESTDIR   ?=

VERSION   := 0.3.0
SOVERSION := 1

CC        ?= cc
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# CFLAGS/CPPFLAGS/LDFLAGS are the builder's (dpkg-buildflags, sanitizers);
# what nicely itself needs is in NICELY_* and always added.
CFLAGS    ?= -O2 -g
NICELY_CPPFLAGS := -D_GNU_SOURCE -Iinclude -I. -DNICELY_VERSION='"$(VERSION)"' \
             -DNICELY_SYSCONFDIR='"$(SYSCONFDIR)"'
NICELY_CFLAGS := -std=gnu11 -fPIC -fvisibility=hidden $(WARN)
LDLIBS    += -lhwloc -linih -ljansson -lm -lpthread
# ncurses (wide) is the nicely command's alone: `nicely top`'s full-screen
# view (sched/cli/top_tui.c, the one file compiled against it); libnicely.so,
# nicely-agent and the tests never link it.
CURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS   := $(or $(shell pkg-config --libs ncursesw 2>/dev/null),-lncursesw)
CC_ALL     = $(CC) $(NICELY_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) $(NICELY_CFLAGS)

SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=all

# B is the build directory of a variant: build (default) or build/asan.
B         ?= build

CORE_SRC  := $(filter-out %/main_agent.c,\
             $(wildcard agent/*.c policy/*.c sched/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(B)/obj/%.o)
LIB_SRC   := $(wildcard sched/lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_SRC   := $(filter-out %/main_nicely.c,$(wildcard sched/cli/*.c))
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/obj/%.o)
AGENTD_SRC := $(filter-out %/main_agent.c,$(wildcard sched/agentd/*.c))
AGENTD_OBJ := $(AGENTD_SRC:%.c=$(B)/obj/%.o)
TEST_SRC  := $(wildcard tests/*.c)
TESTS     := $(TEST_SRC:tests/%.c=$(B)/tests/%.t)
HELP_SRC  := $(wildcard tests/helpers/*.c)
HELPERS   := $(HELP_SRC:tests/helpers/%.c=$(B)/tests/helpers/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCHES   := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
EX_SRC    := $(wildcard examples/*.c)
EXAMPLES  := $(EX_SRC:examples/%.c=$(B)/examples/%)
PROGS     := $(B)/nicely $(if $(wildcard sched/agentd/main_agent.c),$(B)/nicely-agent)
CORE_A    := $(B)/libnicely_core.a
LIB_A     := $(B)/libnicely_lib.a
CLI_A     := $(B)/libnicely_cli.a
AGENTD_A  := $(B)/libnicely_agentd.a
# what the tests, helpers and benchmarks link: every face and the core
ALL_A     := $(CLI_A) $(LIB_A) $(AGENTD_A) $(CORE_A)
SHLIB     := $(B)/libnicely.so.$(VERSION)

.PHONY: all deps check check-run test sanitize sanitize-tests san-goals demo install uninstall clean deb \
        bench fuzz fuzz-smoke fresh-check torture soak soak-run

all: $(PROGS) $(ALL_A) $(SHLIB) $(B)/nicely.pc $(TESTS) $(HELPERS) $(BENCHES) \
     $(EXAMPLES)

# pkg-config file of libnicely, for the installed paths (install writes it
# again with the PREFIX/LIBDIR given there).
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	     -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|'
$(B)/nicely.pc: nicely.pc.in Makefile
	@mkdir -p $(dir $@)
	$(PC_SED) $< >$@

# Objects are rebuilt when what is compiled into them changes (the version,
# the config directory, the flags): $(B)/flags holds them and is rewritten
# only when they differ from the last build's.
BUILD_ID  := $(VERSION) $(SYSCONFDIR) $(CC) $(CPPFLAGS) $(CFLAGS)
$(shell mkdir -p $(B) && { [ "$$(cat $(B)/flags 2>/dev/null)" = '$(BUILD_ID)' ] || \
	echo '$(BUILD_ID)' >$(B)/flags; })

$(B)/obj/%.o: %.c $(B)/flags
	@mkdir -p $(dir $@)
	$(CC_ALL) -MMD -MP -c -o $@ $<

$(B)/obj/sched/cli/top_tui.o: sched/cli/top_tui.c $(B)/flags
	@mkdir -p $(dir $@)
	$(CC_ALL) $(CURSES_CFLAGS) -MMD -MP -c -o $@ $<

$(CORE_A): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CLI_A): $(CLI_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(AGENTD_A): $(AGENTD_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHLIB): $(LIB_OBJ) $(CORE_OBJ)
	$(CC_ALL) -shared -Wl,-soname,libnicely.so.$(SOVERSION) -Wl,-z,now -o $@ $^ $(LDFLAGS) $(LDLIBS)
	ln -sf libnicely.so.$(VERSION) $(B)/libnicely.so.$(SOVERSION)
	ln -sf libnicely.so.$(SOVERSION) $(B)/libnicely.so

$(B)/nicely: $(B)/obj/sched/cli/main_nicely.o $(CLI_A) $(CORE_A)
	@mkdir -p $(dir $@)
	$(CC_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS) $(CURSES_LIBS)

$(B)/nicely-agent: $(B)/obj/sched/agentd/main_agent.o $(AGENTD_A) $(CORE_A)
	@mkdir -p $(dir $@)
	$(CC_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/tests/%.t: $(B)/obj/tests/%.o $(ALL_A)
	@mkdir -p $(dir $@)
	$(CC_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/tests/helpers/%: $(B)/obj/tests/helpers/%.o $(ALL_A)
	@mkdir -p $(dir $@)
	$(CC_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench/%: $(B)/obj/bench/%.o $(ALL_A)
	@mkdir -p $(dir $@)
	$(CC_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/examples/%: $(B)/obj/examples/%.o $(LIB_A) $(CORE_A)
	@mkdir -p $(dir $@)
	$(CC_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# Keep object files between runs (they are intermediates of pattern rules).
.SECONDARY:

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

deps:
	@scripts/deps.sh build

# The sanitizer build: same sources, ASan+UBSan, in build/asan.
# sanitize-tests builds what the sanitizer passes of check and soak run
# (the programs, libnicely, the C tests and the helpers): no benchmark or
# example, which nothing runs under the sanitizers.
sanitize:
	@$(MAKE) --no-print-directory B=build/asan CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" all
sanitize-tests:
	@$(MAKE) --no-print-directory B=build/asan CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" san-goals
san-goals: $(PROGS) $(ALL_A) $(SHLIB) $(B)/nicely.pc $(TESTS) $(HELPERS)

# The whole suite (held to 20 minutes on 2 quiet cores): the plain build's
# tests, the sanitizer build's, the fuzzers briefly, the Debian packages.
# Test files run one after another, never side by side: many judge real
# load and politeness, which other tests running would disturb.
# The builds (plain, sanitizer, fuzzers) go two at a time unless make was
# given its own -j; the tests never do.
CHECK_J = $(if $(filter -j%,$(MAKEFLAGS)),,-j2)
check:
	@scripts/deps.sh check
	@tests/lib/sweep-users.sh
	@$(MAKE) --no-print-directory $(CHECK_J) all sanitize-tests $(FUZZERS)
	@$(MAKE) --no-print-directory check-run

# The sanitizer pass runs every C test and every shell test but these. Each
# spends its time waiting (sleeps, grace times, the sampler seeing busy
# loops, the kernel's CPU shares, a Slurm cluster) while little of our C
# runs, and most of that C is run under the sanitizers by the C tests, the
# hostile-input tests and the shorter real-process tests, as said for each.
# The plain pass runs them all; `make soak` runs them under the sanitizers
# too, and `make check SAN_SKIP=` keeps them in check's sanitizer pass.
# (tests/install.t skips itself there: it checks the Makefile, no C.)
#  agent_run.t     about 55 s, two 6 s windows of the kernel's CPU
#                  shares; its placement cases are agent_client_place.t's,
#                  the agent end to end agent_run_v2fake.t's and agentd_*.t
#  cgroup_reuse.t  30 s waiting on memory.force_empty, sync and kills; the
#                  cgroup code runs in cgroup_v1, lib_cgroup, cgroup_run (a
#                  group's reuse itself only here and in soak)
#  demo.t          scripts/demo.sh's words, 7 s of them its tasks' sleeps;
#                  nicely top and run are top.t's and the run_*.t's
#  run_children.t, run_load.t, run_move.t
#                  wait for the sampler to see busy loops (and for an idle
#                  machine); the gate's accounting of a task's children is
#                  gate_cgroup.t's, its move and pause under real load
#                  lib_cgroup_load.t's (C tests)
#  run_ctl_react.t 45 s waiting for the sampler to see busy loops; batch
#                  pause/resume is run_ctl.t's, the preset's pause
#                  run_react.t's (their interplay only here and in soak)
#  run_nokill.t    the cases of run_nokill_nonroot.t (both are
#                  tests/lib/nokill-cases.sh), as root; that one stays
#  gnu_compat.t    about a minute, most of it GNU parallel's own start
#                  (0.3-1 s a case); nicely's side of it is the same code
#                  the run_*.t tests run under the sanitizers
#  gnu_compat_multi.t  the same for --colsep, -N, -X, -m, --pipe; their
#                  code runs under the sanitizers in run_pipe.t and
#                  input_shape.t
#  slurm_run.t     40 s waiting on slurmctld; what slurm_*.c reads comes
#                  from Slurm's own commands, not a peer (only here, soak)
#  torture.t       30 s; its kinds overlap run_badinput, run_rlimit,
#                  run_nproc, run_ctl_guard and run_signal, which stay; its
#                  kill trials wait on ticks
SAN_SKIP  ?= tests/agent_run.t tests/cgroup_reuse.t tests/demo.t \
             tests/gnu_compat.t tests/gnu_compat_multi.t \
             tests/run_children.t tests/run_ctl_react.t tests/run_load.t \
             tests/run_move.t tests/run_nokill.t tests/slurm_run.t \
             tests/torture.t
SAN_TESTS  = $(filter-out $(SAN_SKIP),$(sort $(wildcard tests/*.t)))
# the sanitizer pass ends by checking that its programs still are
# sanitized (a test that rebuilt them would have hidden every error after)
SAN_INTACT = for p in build/asan/nicely build/asan/nicely-agent; do \
		nm "$$p" | grep -q __asan_init || \
		{ echo "$$p lost its sanitizers during the run" >&2; exit 1; }; done

check-run: all sanitize-tests
	NICELY_BUILD=$(CURDIR)/build prove -e '' --timer -r build/tests tests
	NICELY_BUILD=$(CURDIR)/build/asan ASAN_OPTIONS=detect_leaks=1 \
		prove -e '' --timer -r build/asan/tests $(SAN_TESTS)
	@$(SAN_INTACT)
	@$(MAKE) --no-print-directory $(CHECK_J) fuzz-smoke
	prove -e '' packaging/check-deb.sh

# What check leaves out for time (about 12 minutes; not part of check):
# tests/run_big.t with 100,000 tasks (20,000 under the sanitizers), and the
# sanitizer pass's SAN_SKIP tests under the sanitizers.
soak:
	@tests/lib/sweep-users.sh
	@$(MAKE) --no-print-directory $(CHECK_J) all sanitize-tests
	@$(MAKE) --no-print-directory soak-run
soak-run: all sanitize-tests
	NICELY_BUILD=$(CURDIR)/build NICELY_BIG_N=100000 \
		prove -e '' --timer tests/run_big.t
	NICELY_BUILD=$(CURDIR)/build/asan ASAN_OPTIONS=detect_leaks=1 \
		NICELY_BIG_N=20000 prove -e '' --timer tests/run_big.t $(SAN_SKIP)
	@$(SAN_INTACT)

test: all
	NICELY_BUILD=$(CURDIR)/build prove -e '' --timer -r build/tests tests

# libFuzzer targets under tests/fuzz/: `make fuzz` runs each for a minute,
# `make fuzz-smoke` (part of check) for a few seconds on the seed corpus.
FUZZ_SRC  := $(wildcard tests/fuzz/*.c)
FUZZERS   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CORE := $(filter policy/%,$(CORE_SRC)) $(filter agent/%,$(CORE_SRC)) \
             sched/jsonx.c
# Each source is compiled once for all fuzzers (coverage-instrumented, not
# yet linked with libFuzzer's main), each fuzzer links the objects it needs.
FUZZ_CC   := clang $(NICELY_CPPFLAGS) -std=gnu11 -g -O1
FUZZ_OBJ   = $(1:%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<
build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o $(call FUZZ_OBJ,$(FUZZ_CORE))
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# the agent's request handling needs the agent's files and the cgroup module
build/fuzz/agentd_req: $(call FUZZ_OBJ,$(CORE_SRC) $(AGENTD_SRC))

-include $(shell find build/fuzz/obj -name '*.d' 2>/dev/null)

# each fuzzer is a target of its own, so that make -j runs them side by side
FUZZ_RUNS := $(FUZZERS:build/fuzz/%=fuzz-smoke-%)
.PHONY: $(FUZZ_RUNS)
fuzz-smoke: $(FUZZ_RUNS)
$(FUZZ_RUNS): fuzz-smoke-%: build/fuzz/%
	@mkdir -p build/fuzz/corpus-$*
	@echo "fuzz-smoke: $*"
	@$< -max_total_time=$${FUZZ_SECONDS:-10} -timeout=5 \
	    build/fuzz/corpus-$* tests/fuzz/seeds-$* >build/fuzz/$*.log 2>&1 \
	  || { tail -40 build/fuzz/$*.log; exit 1; }

fuzz:
	@$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=60

# The attack run of issue 15 (scripts/torture.sh): kill trials, bad input,
# resource limits, hostile control-socket peers and a fuzz campaign whose
# corpus grows in tests/fuzz/corpus/; minutes, so not part of check
# (tests/torture.t runs its quick cases there). TORTURE_TRIALS (20),
# TORTURE_FUZZ_SECONDS (60), TORTURE_KINDS.
torture: all $(FUZZERS)
	NICELY_BUILD=$(CURDIR)/build scripts/torture.sh

bench: all
	@scripts/deps.sh bench
	bench/run-all

# Build the .deb packages in a scratch copy, lint, install, use, upgrade, purge.
deb:
	prove -v -e '' packaging/check-deb.sh

# The README's first command: what is missing, a quiet build (its log in
# build/demo-build.log, the end of it shown if it fails), then the demo.
demo:
	@scripts/deps.sh build
	@mkdir -p build
	@echo "== building nicely: make all (the compiler's lines go to build/demo-build.log)"
	@$(MAKE) --no-print-directory all >build/demo-build.log 2>&1 || { \
		tail -n 40 build/demo-build.log; \
		echo "make demo: the build failed; the whole log is build/demo-build.log" >&2; \
		exit 1; }
	@echo
	@scripts/demo.sh $(CURDIR)/build

# What a new machine sees: a clean Debian 12 root (debootstrap minbase plus
# make) runs `make demo` and `make check` (about half an hour; not part of
# check). Run it after changing what the build or the tests need.
fresh-check:
	@scripts/fresh-check.sh

install: $(B)/nicely $(B)/nicely-agent $(SHLIB)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(B)/nicely-agent $(DESTDIR)$(SBINDIR)/nicely-agent
	sed 's|/usr/sbin/nicely-agent|$(SBINDIR)/nicely-agent|' etc/nicely-agent.service \
		>$(DESTDIR)$(UNITDIR)/nicely-agent.service
	chmod 644 $(DESTDIR)$(UNITDIR)/nicely-agent.service
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(SYSCONFDIR)/nicely/presets.d
	install -m 755 $(B)/nicely $(DESTDIR)$(BINDIR)/nicely
	install -m 644 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libnicely.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnicely.so.$(SOVERSION)
	ln -sf libnicely.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libnicely.so
	install -m 644 include/nicely.h $(DESTDIR)$(INCDIR)/
	$(PC_SED) nicely.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/nicely.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/nicely.pc
	install -m 644 etc/nicely.conf $(DESTDIR)$(SYSCONFDIR)/nicely/
	for f in etc/presets.d/*.conf; do [ ! -e "$$f" ] || \
		install -m 644 $$f $(DESTDIR)$(SYSCONFDIR)/nicely/presets.d/; done
	for m in man/*.[1-8]; do [ ! -e "$$m" ] || { s=$${m##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; }; done
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 etc/bash-completion/nicely \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/nicely

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nicely $(DESTDIR)$(LIBDIR)/libnicely.so* \
		$(DESTDIR)$(INCDIR)/nicely.h $(DESTDIR)$(LIBDIR)/pkgconfig/nicely.pc \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/nicely
	rm -f $(DESTDIR)$(MANDIR)/man1/nicely.1 $(DESTDIR)$(MANDIR)/man5/nicely.conf.5 \
		$(DESTDIR)$(MANDIR)/man3/libnicely.3 $(DESTDIR)$(MANDIR)/man8/nicely-agent.8
	rm -f $(DESTDIR)$(SBINDIR)/nicely-agent $(DESTDIR)$(UNITDIR)/nicely-agent.service

clean:
	rm -rf build
