# SPDX-License-Identifier: MIT
# workerwatch: eBPF observer for orchestration workers.

OUTPUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
prefix ?= /usr/local
bindir ?= $(prefix)/bin
mandir ?= $(prefix)/share/man
datadir ?= $(prefix)/share
# The unit runs the daemon with $(sysconfdir)/workerwatch/config.json; state and logs under $(localstatedir).
sysconfdir ?= /etc
localstatedir ?= /var
unitdir ?= $(prefix)/lib/systemd/system
DESTDIR ?=
VERSION := $(shell sed -n 's/^#define WORKERWATCH_VERSION "\(.*\)"/\1/p' user/lib/version.h)

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
# user/ is layered (tools/check-layers.sh): lib, observe, history, notify, alerts, daemon, cli.
USER_SRCS := $(wildcard user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
USER_DIRS := $(sort $(dir $(USER_OBJS)))
# The dashboard, with the pinned uPlot fetched from npm, embedded in the binary.
# dashboard/js/ holds its ES modules, served beside the other files (tools/embed-assets.sh).
DASHBOARD_FILES := $(sort $(wildcard dashboard/*.html dashboard/*.css dashboard/*.svg dashboard/js/*.js))
VENDOR_FILES := $(OUTPUT)/vendor/uPlot.iife.min.js $(OUTPUT)/vendor/uPlot.min.css $(OUTPUT)/vendor/uPlot.LICENSE
ASSETS_OBJ := $(OUTPUT)/assets_data.o
# Everything but main.c, so tests can link the modules.
LIB_OBJS := $(filter-out $(OUTPUT)/user/cli/main.o,$(USER_OBJS)) $(ASSETS_OBJ)
TEST_SRCS := $(wildcard tests/*.c)
TEST_OBJS := $(patsubst tests/%.c,$(OUTPUT)/tests/%.o,$(TEST_SRCS))

CFLAGS ?= -g -O2
WARNINGS := -Wall -Wextra -Werror
# SANITIZE: sanitizer flags for make check-asan and make fuzz (the product and its tests only)
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(EXTRA_CFLAGS) -I$(OUTPUT) -Ibpf -Iuser -MMD -MP
ALL_CFLAGS := $(BASE_CFLAGS) $(SANITIZE)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Ibpf -Wall -Werror -MMD -MP
LIBS := -lbpf -lelf -lz -lcjson -lsqlite3 -lmicrohttpd -lcurl -lcrypto -lncursesw -lm -lpthread

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all deps check unit test-kernel run bench vmlinux install deb clean check-asan fuzz fuzz-build

all: $(OUTPUT)/workerwatch $(OUTPUT)/wwload

# tools/setup.sh installs what a set (build, deb, test, bench) lacks. It runs again
# only when its package lists change (the stamp is older than the script) or
# the stamp is removed, not on every make; whatever needs a tool waits for it.
SETUP_STAMP = $(OUTPUT)/.setup-$(1)
$(OUTPUT)/.setup-%: tools/setup.sh | $(OUTPUT)
	$(call msg,SETUP,$*)
	$(Q)tools/setup.sh $*
	$(Q)touch $@

.PRECIOUS: $(OUTPUT)/.setup-%
deps: $(call SETUP_STAMP,build)

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/tests $(USER_DIRS):
	$(Q)mkdir -p $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUTPUT)/bpf $(call SETUP_STAMP,build)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# One linked object, so all concerns share their maps through one skeleton.
$(OUTPUT)/workerwatch.bpf.o: $(BPF_OBJS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/workerwatch.skel.h: $(OUTPUT)/workerwatch.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name workerwatch_bpf > $@

$(OUTPUT)/syscall_names.h: | $(OUTPUT) $(call SETUP_STAMP,build)
	$(call msg,GEN,$@)
	$(Q)tools/gen-syscall-names.sh $(CC) > $@

# Generated headers, needed before the first compile of the files that include them
# (later changes are tracked by the .d files).
$(OUTPUT)/user/observe/probes.o $(OUTPUT)/user/observe/tracker.o: $(OUTPUT)/workerwatch.skel.h
$(OUTPUT)/user/observe/syscalls.o: $(OUTPUT)/syscall_names.h

$(OUTPUT)/user/%.o: user/%.c | $(USER_DIRS) $(call SETUP_STAMP,build)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/%.o: tests/%.c | $(OUTPUT)/tests $(call SETUP_STAMP,build)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -c $< -o $@

$(VENDOR_FILES) &: | $(call SETUP_STAMP,build)
	$(call msg,FETCH,uplot)
	$(Q)tools/fetch-uplot.sh $(OUTPUT)/vendor

# The folders too: a removed or renamed file changes no file, only its folder.
$(OUTPUT)/assets_data.c: $(DASHBOARD_FILES) dashboard dashboard/js $(VENDOR_FILES) tools/embed-assets.sh | $(OUTPUT)
	$(call msg,EMBED,$@)
	$(Q)tools/embed-assets.sh $@ $(DASHBOARD_FILES) $(VENDOR_FILES)

$(ASSETS_OBJ): $(OUTPUT)/assets_data.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/workerwatch: $(USER_OBJS) $(ASSETS_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDFLAGS) $(LIBS) -o $@

# The workload is the tests' ground truth, not the product: never sanitized, as
# ASan's shadow memory and exit-time leak check would be measured with it.
$(OUTPUT)/wwload: tools/wwload.c | $(OUTPUT) $(call SETUP_STAMP,build)
	$(call msg,CC,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $< -lpthread -o $@

$(OUTPUT)/ww_test: $(TEST_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDFLAGS) $(LIBS) -o $@

# The main job: a built-in demo worker, tracked, and its report.
run: all
	$(Q)tools/as-root.sh tools/demo.sh $(OUTPUT)

# The whole suite, then the same tests on the sanitized build (make check-asan)
# and a few seconds of each fuzzer; `make unit` runs only the unit tests (no
# root needed), `make test-kernel` only the kernel tests (as root).
check: all $(OUTPUT)/ww_test $(call SETUP_STAMP,test)
	$(Q)tools/check-layers.sh
	$(Q)tools/as-root.sh $(OUTPUT)/ww_test --bin $(OUTPUT)
	$(Q)$(MAKE) --no-print-directory check-asan
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

unit: all $(OUTPUT)/ww_test $(call SETUP_STAMP,test)
	$(Q)$(OUTPUT)/ww_test --bin $(OUTPUT) --unit

test-kernel: all $(OUTPUT)/ww_test $(call SETUP_STAMP,test)
	$(Q)tools/as-root.sh $(OUTPUT)/ww_test --bin $(OUTPUT) --kernel

# REPS, CALLS, STARTUP_RUNS, QUIET_WAIT, SPAWNS are passed on explicitly: sudo drops the environment.
bench: all $(OUTPUT)/wwfloor $(OUTPUT)/wwswarm $(OUTPUT)/wwalertlat $(call SETUP_STAMP,bench)
	$(Q)tools/as-root.sh env $(strip $(foreach v,REPS CALLS STARTUP_RUNS QUIET_WAIT SPAWNS,$(if $($(v)),$(v)=$($(v))))) tools/bench.sh $(OUTPUT)

vmlinux:
	$(Q)tools/gen-vmlinux.sh $(ARCH)

# Installs what `make` built and builds nothing, so it never runs the set-up (apt).
install:
	$(Q)test -x $(OUTPUT)/workerwatch || { echo "install: no $(OUTPUT)/workerwatch: run make first" >&2; exit 1; }
	install -D -m 0755 $(OUTPUT)/workerwatch $(DESTDIR)$(bindir)/workerwatch
	install -D -m 0644 docs/workerwatch.8 $(DESTDIR)$(mandir)/man8/workerwatch.8
	install -d -m 0755 $(DESTDIR)$(unitdir)
	sed -e 's|@bindir@|$(bindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g' tools/workerwatch.service \
		> $(DESTDIR)$(unitdir)/workerwatch.service
	chmod 0644 $(DESTDIR)$(unitdir)/workerwatch.service
	@# the config belongs to the operator once installed: never overwrite it
	if [ ! -e $(DESTDIR)$(sysconfdir)/workerwatch/config.json ]; then \
		install -D -m 0644 tools/config.json $(DESTDIR)$(sysconfdir)/workerwatch/config.json; fi
	install -d -m 0755 $(DESTDIR)$(localstatedir)/lib/workerwatch $(DESTDIR)$(localstatedir)/log/workerwatch
	@# the fleet's dashboard and rules, for the Grafana and Prometheus hosts (docs/FLEET.md)
	install -D -m 0644 -t $(DESTDIR)$(datadir)/workerwatch/mixin tools/mixin/dashboard.json \
		tools/mixin/rules.yml tools/mixin/rules_test.yml

# The Debian package, built from tools/debian/ in a staging directory with its own hardened objects.
DEB_STAGE := $(OUTPUT)/deb/workerwatch-$(VERSION)
DEB_FILE := $(OUTPUT)/deb/workerwatch_$(VERSION)_amd64.deb
deb: $(VENDOR_FILES) $(call SETUP_STAMP,deb)
	$(Q)v=$$(dpkg-parsechangelog -l tools/debian/changelog -S Version); [ "$$v" = "$(VERSION)" ] || \
		{ echo "deb: tools/debian/changelog is at $$v, user/lib/version.h at $(VERSION)" >&2; exit 1; }
	$(Q)rm -rf $(DEB_STAGE) $(OUTPUT)/deb/*.deb $(OUTPUT)/deb/*.changes $(OUTPUT)/deb/*.buildinfo
	$(Q)mkdir -p $(DEB_STAGE) $(OUTPUT)/deb/obj/vendor
	$(Q)cp -r tools/debian $(DEB_STAGE)/debian
	$(Q)cp -p $(VENDOR_FILES) $(OUTPUT)/deb/obj/vendor/
	$(call msg,DEB,$(DEB_FILE))
	$(Q)cd $(DEB_STAGE) && WW_SRC=$(CURDIR) dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -30 ../build.log >&2; echo "deb: dpkg-buildpackage failed: $(OUTPUT)/deb/build.log" >&2; exit 1; }
	$(call msg,LINTIAN,$(DEB_FILE))
	$(Q)lintian --fail-on error,warning,info,pedantic --display-info --pedantic $(DEB_FILE)

clean:
	rm -rf $(OUTPUT)

# --- wwfloor: empty programs on workerwatch's hooks, the floor make bench compares against ---
$(OUTPUT)/wwfloor.bpf.o: tools/wwfloor.bpf.c $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/wwfloor.skel.h: $(OUTPUT)/wwfloor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name wwfloor_bpf > $@

$(OUTPUT)/wwfloor: tools/wwfloor.c $(OUTPUT)/wwfloor.skel.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIBS) -o $@
# --- end wwfloor ---

# --- wwswarm: the mostly idle worker trees make bench's daemon part tracks ---
$(OUTPUT)/wwswarm: tools/wwswarm.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@
# --- end wwswarm ---

# --- wwalertlat: kernel event to first webhook byte, for make bench ---
$(OUTPUT)/wwalertlat: tools/wwalertlat.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< -lcurl -o $@
# --- end wwalertlat ---

# --- sanitizers and fuzzing (docs/ROBUSTNESS.md) ---
# Both build with clang into their own directories, never mixed with $(OUTPUT).
# make check-asan [T=SUBSTRING]: the tests on a build with ASan, UBSan and
# LeakSanitizer; the daemons they start are that build too, and any report fails.
# make fuzz [FUZZ_SECONDS=N] [FUZZERS="config api"]: each libFuzzer harness of
# tests/fuzz for N seconds, its corpus kept in $(FUZZ_OUTPUT)/corpus.
ASAN_OUTPUT ?= build-asan
FUZZ_OUTPUT ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZERS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
SAN_MAKE = $(MAKE) --no-print-directory CC=$(CLANG) CFLAGS="-g -O1"

check-asan: $(call SETUP_STAMP,test)
	$(Q)$(SAN_MAKE) OUTPUT=$(ASAN_OUTPUT) SANITIZE="$(SAN_FLAGS)" \
		$(ASAN_OUTPUT)/workerwatch $(ASAN_OUTPUT)/wwload $(ASAN_OUTPUT)/ww_test
	$(Q)tools/as-root.sh tools/check-asan.sh $(ASAN_OUTPUT) $(T)

fuzz: $(call SETUP_STAMP,sanitizers)
	$(Q)$(SAN_MAKE) OUTPUT=$(FUZZ_OUTPUT) SANITIZE="$(FUZZ_FLAGS)" fuzz-build
	$(Q)tools/fuzz.sh $(FUZZ_OUTPUT) $(FUZZ_SECONDS) $(FUZZERS)

# Only in the sub-make above, with SANITIZE set. A harness links its own file,
# then what the harnesses share (tests/fuzz/*.c but fuzz_*.c), then the
# modules, both from archives: each pulls only the objects it needs.
FUZZ_SUPPORT := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%.o,$(filter-out tests/fuzz/fuzz_%.c,$(wildcard tests/fuzz/*.c)))
# The API harnesses answer these themselves, without a connection (api_harness.c).
FUZZ_LDFLAGS := -Wl,--wrap=http_request__query -Wl,--wrap=http_request__header

fuzz-build: $(patsubst %,$(OUTPUT)/fuzz/%,$(FUZZERS))

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/libww.a: $(LIB_OBJS) | $(OUTPUT)/fuzz
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/fuzz/libfuzz.a: $(FUZZ_SUPPORT) | $(OUTPUT)/fuzz
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/fuzz/%.o: tests/fuzz/%.c | $(OUTPUT)/fuzz $(call SETUP_STAMP,build)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/fuzz -c $< -o $@

$(OUTPUT)/fuzz/%: tests/fuzz/fuzz_%.c $(OUTPUT)/fuzz/libfuzz.a $(OUTPUT)/fuzz/libww.a
	$(call msg,FUZZER,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -Itests/fuzz $< $(OUTPUT)/fuzz/libfuzz.a $(OUTPUT)/fuzz/libww.a \
		$(FUZZ_LDFLAGS) $(LIBS) -o $@
# --- end sanitizers and fuzzing ---

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/*/*.d $(OUTPUT)/*/*/*.d)
