# auto-vfio — build, test, install.
#   make                 programs into build/
#   make check           unit, fixture and install tests under ASan+UBSan
#   make qemu-check      end-to-end boots of the real Debian kernel in QEMU
#   make bench           benchmarks (numbers, not tests)
#   make fuzz            libFuzzer harnesses, FUZZ_SECONDS each (clang)
#   make demo            the main job on this machine and on a sample machine
#   make install DESTDIR=... PREFIX=...

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
# initramfs-tools and GRUB only look in these places, whatever PREFIX is.
INITRAMFS_TOOLS_DIR ?= /usr/share/initramfs-tools
GRUBD_DIR ?= /etc/grub.d

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libkmod libpci zlib 2>/dev/null)
KMOD_LIBS := $(shell $(PKG_CONFIG) --libs libkmod 2>/dev/null)
PCI_LIBS := $(shell $(PKG_CONFIG) --libs libpci zlib 2>/dev/null)
ALL_LIBS := $(PCI_LIBS) $(KMOD_LIBS)

# Paths compiled in stay fixed (/etc, /var/lib): PREFIX moves only the programs,
# whose paths reach the hook and the grub.d shim at install time.
AV_CPPFLAGS := -Isrc/lib -D_GNU_SOURCE
AV_CFLAGS := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral $(DEP_CFLAGS)
AV_LDFLAGS := -Wl,--as-needed

LIB_SRCS := $(sort $(wildcard src/lib/*.c))
CLI_SRCS := $(sort $(wildcard src/cli/*.c))
BIND_SRCS := $(sort $(wildcard src/bind/*.c))
GRUB_SRCS := $(sort $(wildcard src/grub/*.c))
TEST_SRCS := $(sort $(wildcard tests/*.c tests/lib/*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB := $(BUILD)/libauto-vfio.a
PROGS := $(BUILD)/auto-vfio
ifneq ($(BIND_SRCS),)
PROGS += $(BUILD)/auto-vfio-bind
endif
ifneq ($(GRUB_SRCS),)
PROGS += $(BUILD)/auto-vfio-grub
endif
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))

all: $(PROGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(AV_CPPFLAGS) $(CPPFLAGS) $(AV_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/auto-vfio: $(call obj,$(CLI_SRCS)) $(LIB)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(ALL_LIBS)

# The binder runs in the initramfs: it links libkmod and nothing else.
$(BUILD)/auto-vfio-bind: $(call obj,$(BIND_SRCS)) $(LIB)
	$(CC) $(AV_LDFLAGS) $(LDFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(KMOD_LIBS)

$(BUILD)/auto-vfio-grub: $(call obj,$(GRUB_SRCS)) $(LIB)
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

check: deps
	$(MAKE) BUILD=$(CHECK_BUILD) EXTRA_CFLAGS="$(SAN_FLAGS)" tests-build
	AV_BUILD=$(CHECK_BUILD) AV_SRCDIR=. ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CHECK_BUILD)/testsuite $(TESTS)

qemu-check: deps all
	@sh tools/deps.sh qemu
	sh qemu-tests/run.sh

bench: deps all
	@sh tools/deps.sh bench
	sh bench/run.sh

FUZZ_SECONDS ?= 5
FUZZ_BUILD ?= build/fuzz
FUZZ_LIB_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

fuzz: deps
	@sh tools/deps.sh fuzz
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="-O1 -g" EXTRA_CFLAGS="$(FUZZ_LIB_FLAGS)" \
		$(FUZZ_BUILD)/libauto-vfio.a
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CFLAGS="$(DEP_CFLAGS)" \
		FUZZ_LIBS="$(ALL_LIBS)" sh tests/fuzz/run.sh

demo: deps all
	sh tools/demo.sh

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(BIND_SRCS) $(GRUB_SRCS) $(TEST_SRCS) $(TOOL_SRCS) \
		$(wildcard src/*/*.h tests/lib/*.h tests/fuzz/*.[ch])

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILD)/auto-vfio $(DESTDIR)$(SBINDIR)/auto-vfio
	@set -e; for f in $(PROGS); do \
		case $$f in */auto-vfio) ;; *) install -m 0755 $$f $(DESTDIR)$(SBINDIR)/ ;; esac; \
	done
	@set -e; for f in $(wildcard man/*.8); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man8/; done
	@set -e; for f in $(wildcard man/*.5); do install -m 0644 $$f $(DESTDIR)$(MANDIR)/man5/; done
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
	@set -e; for f in grub.d/*; do [ -e "$$f" ] || continue; \
		install -d $(DESTDIR)$(GRUBD_DIR); \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$f > $(DESTDIR)$(GRUBD_DIR)/$$(basename $$f); \
		chmod 0755 $(DESTDIR)$(GRUBD_DIR)/$$(basename $$f); \
	done

uninstall-files:
	rm -f $(DESTDIR)$(SBINDIR)/auto-vfio $(DESTDIR)$(SBINDIR)/auto-vfio-bind $(DESTDIR)$(SBINDIR)/auto-vfio-grub
	rm -f $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/auto-vfio
	rm -f $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-top/auto-vfio*
	rm -f $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-premount/auto-vfio*
	rm -f $(DESTDIR)$(GRUBD_DIR)/*_auto-vfio

clean:
	rm -rf build

.PHONY: all deps check qemu-check bench fuzz demo format install uninstall-files clean tests-build
