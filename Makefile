# auto-vfio — build, test, install.
#   make                 programs into build/
#   make check           unit, fixture and install tests under ASan+UBSan
#   make qemu-check      end-to-end boots of the real Debian kernel in QEMU
#   make bench           benchmarks (numbers, not tests)
#   make fuzz            libFuzzer harnesses, FUZZ_SECONDS each (clang)
#   make demo            the main job on this machine and on a sample machine
#   make deb             the Debian package, into build/deb/
#   make deps            install what building needs (apt-get, as root)
#   make install DESTDIR=... PREFIX=...

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# initramfs-tools, dracut and GRUB only look in these places, whatever PREFIX is.
INITRAMFS_TOOLS_DIR ?= /usr/share/initramfs-tools
GRUBD_DIR ?= /etc/grub.d
DRACUT_MODULES_DIR ?= /usr/lib/dracut/modules.d
KERNEL_INSTALL_DIR ?= /usr/lib/kernel/install.d

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Targets that install the libraries first (or need none) parse without them;
# any other stops here with one line rather than a compiler error.
LIBS_FOUND := $(shell $(PKG_CONFIG) --exists libkmod libpci zlib 2>/dev/null && echo yes)
NOLIB_GOALS := deps check demo qemu-check bench fuzz deb clean format uninstall-files
ifneq ($(LIBS_FOUND),yes)
ifneq ($(filter-out $(NOLIB_GOALS),$(or $(MAKECMDGOALS),all)),)
$(error the development files of libkmod, libpci or zlib are missing: run 'make deps' (as root) first)
endif
endif

DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libkmod libpci zlib 2>/dev/null)
KMOD_LIBS := $(shell $(PKG_CONFIG) --libs libkmod 2>/dev/null)
PCI_LIBS := $(shell $(PKG_CONFIG) --libs libpci zlib 2>/dev/null)
ALL_LIBS := $(PCI_LIBS) $(KMOD_LIBS)
# dlopen: in the C library since glibc 2.34 (--as-needed drops -ldl then).
DL_LIBS := -ldl

# Paths compiled in stay fixed (/etc, /var/lib): PREFIX moves only the programs,
# whose paths reach the hook and the grub.d shim at install time.
# The library in tiers (README: How it works): the boot core the binder may
# use, the model of the machine, the policy, the writers. The core and the
# binder compile seeing only the core's headers and the binder links only
# the core's archive, so the build fails if the binder ever reaches further.
LIB_TIERS := core model policy writers
AV_CPPFLAGS := $(addprefix -Isrc/lib/,$(LIB_TIERS)) -D_GNU_SOURCE
CORE_CPPFLAGS := -Isrc/lib/core -D_GNU_SOURCE
AV_CFLAGS := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral $(DEP_CFLAGS)
AV_LDFLAGS := -Wl,--as-needed

LIB_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(addprefix src/lib/,$(LIB_TIERS)))))
CORE_SRCS := $(sort $(wildcard src/lib/core/*.c))
CLI_SRCS := $(sort $(wildcard src/cli/*.c))
BIND_SRCS := $(sort $(wildcard src/bind/*.c))
GRUB_SRCS := $(sort $(wildcard src/grub/*.c))
BLS_SRCS := $(sort $(wildcard src/bls/*.c))
TEST_SRCS := $(sort $(wildcard tests/*.c tests/lib/*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB := $(BUILD)/libauto-vfio.a
CORE_LIB := $(BUILD)/libauto-vfio-core.a
PROGS := $(BUILD)/auto-vfio
ifneq ($(BIND_SRCS),)
PROGS += $(BUILD)/auto-vfio-bind
endif
ifneq ($(GRUB_SRCS),)
PROGS += $(BUILD)/auto-vfio-grub
endif
ifneq ($(BLS_SRCS),)
PROGS += $(BUILD)/auto-vfio-bls
endif
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))

all: $(PROGS)

$(call obj,$(CORE_SRCS) $(BIND_SRCS)): AV_CPPFLAGS := $(CORE_CPPFLAGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(AV_CPPFLAGS) $(CPPFLAGS) $(AV_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(CORE_LIB): $(call obj,$(CORE_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/auto-vfio: $(call obj,$(CLI_SRCS)) $(LIB)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(ALL_LIBS)

# The binder runs in the initramfs: it links only the boot core and the C
# library, and opens libkmod (src/bind/kmod-dl.c) when it has to load vfio-pci.
$(BUILD)/auto-vfio-bind: $(call obj,$(BIND_SRCS)) $(CORE_LIB)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(DL_LIBS)

$(BUILD)/auto-vfio-grub: $(call obj,$(GRUB_SRCS)) $(LIB)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(ALL_LIBS)

$(BUILD)/auto-vfio-bls: $(call obj,$(BLS_SRCS)) $(LIB)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(ALL_LIBS)

$(BUILD)/testsuite: $(call obj,$(TEST_SRCS)) $(LIB)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(ALL_LIBS)

# Helper programs link the test helpers, not the runner's main().
$(BUILD)/tests/%: $(BUILD)/obj/tests/tools/%.o $(filter-out $(BUILD)/obj/tests/lib/testsuite.o,$(call obj,$(wildcard tests/lib/*.c))) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(ALL_LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Everything the fast tests need, in one build directory.
tests-build: $(PROGS) $(BUILD)/testsuite $(TOOLS)

deps:
	@sh tools/deps.sh build

CHECK_BUILD ?= build/asan

# These install their packages first, then build in a sub-make, which reads
# the library flags from pkg-config only once the libraries are there.
check:
	@sh tools/deps.sh check
	$(MAKE) BUILD=$(CHECK_BUILD) EXTRA_CFLAGS="$(SAN_FLAGS)" tests-build
	AV_BUILD=$(CHECK_BUILD) AV_SRCDIR=. ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CHECK_BUILD)/testsuite $(TESTS)

qemu-check:
	@sh tools/deps.sh qemu
	$(MAKE) all
	sh qemu-tests/run.sh

bench:
	@sh tools/deps.sh bench
	$(MAKE) all
	sh bench/run.sh

FUZZ_SECONDS ?= 5
FUZZ_BUILD ?= build/fuzz
FUZZ_LIB_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

fuzz:
	@sh tools/deps.sh fuzz
	$(MAKE) fuzz-run

fuzz-run:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="-O1 -g" EXTRA_CFLAGS="$(FUZZ_LIB_FLAGS)" \
		$(FUZZ_BUILD)/libauto-vfio.a
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CFLAGS="$(DEP_CFLAGS)" \
		FUZZ_LIBS="$(ALL_LIBS)" sh tests/fuzz/run.sh

demo:
	@sh tools/deps.sh build
	$(MAKE) all
	sh tools/demo.sh

# dpkg-buildpackage writes beside the source tree: build in a copy under
# $(DEB_DIR) so the package and its .changes land there, not above the repo.
DEB_DIR ?= $(BUILD)/deb
deb:
	@sh tools/deps.sh deb
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -c --exclude=./build --exclude=./$(BUILD) --exclude=./.git --exclude=./qemu-tests/cache \
		--exclude=./qemu-tests/work . | tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(BIND_SRCS) $(GRUB_SRCS) $(BLS_SRCS) $(TEST_SRCS) $(TOOL_SRCS) \
		$(wildcard src/*/*.h src/lib/*/*.h tests/lib/*.h tests/fuzz/*.[ch])

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILD)/auto-vfio $(DESTDIR)$(SBINDIR)/auto-vfio
	@set -e; for f in $(PROGS); do \
		case $$f in */auto-vfio) ;; *) install -m 0755 $$f $(DESTDIR)$(SBINDIR)/ ;; esac; \
	done
	@set -e; for f in $(wildcard man/*.8); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man8/; done
	@set -e; for f in $(wildcard man/*.5); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man5/; done
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 completion/auto-vfio $(DESTDIR)$(BASHCOMPDIR)/auto-vfio
	@set -e; if [ -e hooks/auto-vfio ]; then \
		install -d $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks; \
		sed 's|@SBINDIR@|$(SBINDIR)|g' hooks/auto-vfio > $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/auto-vfio; \
		chmod 0755 $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/auto-vfio; \
	fi
	@set -e; for d in init-top init-premount; do \
		for f in initramfs-tools/scripts/$$d/*; do [ -e "$$f" ] || continue; \
			install -d $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/$$d; \
			sed 's|@SBINDIR@|$(SBINDIR)|g' $$f > $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/$$d/$$(basename $$f); \
			chmod 0755 $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/$$d/$$(basename $$f); \
		done; done
	@set -e; for f in dracut/90auto-vfio/*; do [ -e "$$f" ] || continue; \
		install -d $(DESTDIR)$(DRACUT_MODULES_DIR)/90auto-vfio; \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$f > $(DESTDIR)$(DRACUT_MODULES_DIR)/90auto-vfio/$$(basename $$f); \
		chmod 0755 $(DESTDIR)$(DRACUT_MODULES_DIR)/90auto-vfio/$$(basename $$f); \
	done
	@set -e; for f in kernel-install/*.install; do [ -e "$$f" ] || continue; \
		install -d $(DESTDIR)$(KERNEL_INSTALL_DIR); \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$f > $(DESTDIR)$(KERNEL_INSTALL_DIR)/$$(basename $$f); \
		chmod 0755 $(DESTDIR)$(KERNEL_INSTALL_DIR)/$$(basename $$f); \
	done
	@set -e; for f in grub.d/*; do [ -e "$$f" ] || continue; \
		install -d $(DESTDIR)$(GRUBD_DIR); \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$f > $(DESTDIR)$(GRUBD_DIR)/$$(basename $$f); \
		chmod 0755 $(DESTDIR)$(GRUBD_DIR)/$$(basename $$f); \
	done

uninstall-files:
	rm -f $(DESTDIR)$(SBINDIR)/auto-vfio $(DESTDIR)$(SBINDIR)/auto-vfio-bind $(DESTDIR)$(SBINDIR)/auto-vfio-grub \
		$(DESTDIR)$(SBINDIR)/auto-vfio-bls $(DESTDIR)$(KERNEL_INSTALL_DIR)/95-auto-vfio.install
	rm -f $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/auto-vfio
	rm -f $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-top/auto-vfio*
	rm -f $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-premount/auto-vfio*
	rm -f $(DESTDIR)$(GRUBD_DIR)/*_auto-vfio
	rm -rf $(DESTDIR)$(DRACUT_MODULES_DIR)/90auto-vfio
	rm -f $(DESTDIR)$(BASHCOMPDIR)/auto-vfio

clean:
	rm -rf build

.PHONY: all deps check qemu-check bench fuzz fuzz-run demo deb format install uninstall-files clean \
	tests-build
