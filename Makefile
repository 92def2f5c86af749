# ioasids: a cgroup controller for PCIe PASIDs, built into Linux 6.12 and
# tested inside a QEMU guest. See README.md.

.DEFAULT_GOAL := help

help:
	@echo "make demo     boot the guest and show PASID limits per VM"
	@echo "make check    build, boot and run every test (T=<name> for one)"
	@echo "make kernel   build the patched kernel (build/linux)"
	@echo "make run      an interactive shell in the guest"
	@echo "make series   the upstream patch series, in build/series/patches"
	@echo "make deb      a Debian kernel package of it, in build/deb"
	@echo "make userspace systemd 252 and crun 1.8.1 with the ioasids patches"
	@echo "              (userspace/), built with ccache in build/userspace"
	@echo "make userspace-deb  Debian packages of both, in build/userspace/deb"
	@echo "make kunit-uml  the controller's KUnit suite on UML (kunit.py)"
	@echo "make bench    benchmarks on a non-debug kernel: ratios, plot"
	@echo "make coverage line and function coverage of the kernel files (lcov)"
	@echo "make install  ioasidctl (man page, bash completion), systemd units,"
	@echo "              udev rule, OCI hook, header, docs"
	@echo "              (DESTDIR=, PREFIX=/usr, SYSCONFDIR=/etc); never"
	@echo "              replaces a file in /etc/ioasids"
	@echo "make uninstall  remove them (keeps changed /etc/ioasids files)"
	@echo "make package  a Debian package of the same, ioasids-tools, in"
	@echo "              build/package (dpkg-buildpackage; lintian clean)"
	@echo "make deps     install what the build and tests need (Debian 12)"
	@echo "make clean    remove build output (keeps the extracted tree)"

deps:
	@bash scripts/deps.sh

kernel: deps
	@bash scripts/kernel.sh

selftests: kernel
	@$(MAKE) -s -C tests/selftests

tools: kernel
	@$(MAKE) -s -C tools

check: deps
	@bash tests/harness/check

demo: deps
	@bash tests/harness/demo

run: kernel
	@bash tests/harness/run-guest --shell

series: deps
	@bash scripts/series.sh write

deb: deps
	@bash scripts/deb.sh

userspace:
	@bash scripts/deps.sh userspace
	@bash scripts/userspace.sh all

userspace-deb:
	@bash scripts/deps.sh userspace
	@bash scripts/userspace.sh deb

# Not part of make check (the guest runs the same cases): see README.md.
kunit-uml: kernel
	@r=$$(bash tests/harness/kunit-uml); echo "$$r"; \
		case "$$r" in ok*) ;; *) exit 1 ;; esac

bench: deps
	@bash tests/bench/run

coverage: deps
	@bash tests/harness/coverage

# ioasids-tools (debian/): what make install installs, as a .deb
# (scripts/package.sh: dpkg-buildpackage -b, lintian, hardening-check).
package: deps
	@bash scripts/package.sh

# Where Debian puts things. ioasidctl is built against uapi/ here, so
# installing needs no kernel build. Every document goes to share/doc/ioasids
# under its own name, the driver API's ioasid.rst as ioasid-driver-api.rst
# (the uAPI's keeps the name).
PREFIX ?= /usr
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCS := README.md Documentation/admin-guide/cgroup-v2-ioasids.rst \
	Documentation/admin-guide/ioasids-ecosystem.rst \
	Documentation/admin-guide/ioasids-userspace.rst \
	Documentation/ioasids-design.rst \
	Documentation/userspace-api/ioasid.rst
INSTALL_TOOLS := $(CURDIR)/build/install
# Where podman and CRI-O look for OCI hooks (oci-hooks(5)), and the stage.
HOOKSDIR ?= $(PREFIX)/share/containers/oci/hooks.d
HOOK_STAGE := createRuntime
ETC_FILES := $(notdir $(wildcard systemd-units/ioasids/*.conf))
# What make install puts outside /etc, for make uninstall.
INSTALLED := $(PREFIX)/bin/ioasidctl \
	$(PREFIX)/share/man/man8/ioasidctl.8 \
	$(PREFIX)/share/bash-completion/completions/ioasidctl \
	$(UNITDIR)/ioasids-metrics.service $(UNITDIR)/ioasids-metrics.timer \
	$(PREFIX)/lib/ioasids/ioasids-limit $(UNITDIR)/ioasids@.service \
	$(UNITDIR)/user.slice.d/50-ioasids.conf \
	$(UNITDIR)/user-.slice.d/50-ioasids.conf \
	$(UNITDIR)/user@.service.d/50-ioasids.conf \
	$(UNITDIR)/machine.slice.d/50-ioasids.conf \
	$(PREFIX)/lib/tmpfiles.d/ioasids.conf \
	$(PREFIX)/lib/udev/rules.d/60-ioasid.rules \
	$(PREFIX)/include/linux/ioasid.h \
	$(PREFIX)/lib/ioasids/ioasids-oci-hook $(HOOKSDIR)/ioasids.json \
	$(PREFIX)/share/ioasids/libvirt/qemu.conf \
	$(addprefix $(PREFIX)/share/doc/ioasids/,$(notdir $(DOCS))) \
	$(PREFIX)/share/doc/ioasids/ioasid-driver-api.rst

install:
	@$(MAKE) -s -C tools HDRS=$(CURDIR)/uapi OUT=$(INSTALL_TOOLS)
	install -D -m 0755 $(INSTALL_TOOLS)/ioasidctl $(DESTDIR)$(PREFIX)/bin/ioasidctl
	install -D -m 0644 $(INSTALL_TOOLS)/ioasidctl.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/ioasidctl.8
	install -D -m 0644 tools/ioasidctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/ioasidctl
	install -D -m 0644 systemd-units/ioasids-metrics.service \
		$(DESTDIR)$(UNITDIR)/ioasids-metrics.service
	install -D -m 0644 systemd-units/ioasids-metrics.timer \
		$(DESTDIR)$(UNITDIR)/ioasids-metrics.timer
	install -D -m 0755 systemd-units/ioasids-limit \
		$(DESTDIR)$(PREFIX)/lib/ioasids/ioasids-limit
	install -D -m 0644 systemd-units/ioasids@.service \
		$(DESTDIR)$(UNITDIR)/ioasids@.service
	install -D -m 0644 systemd-units/user.slice.d/50-ioasids.conf \
		$(DESTDIR)$(UNITDIR)/user.slice.d/50-ioasids.conf
	install -D -m 0644 systemd-units/user-.slice.d/50-ioasids.conf \
		$(DESTDIR)$(UNITDIR)/user-.slice.d/50-ioasids.conf
	install -D -m 0644 systemd-units/user@.service.d/50-ioasids.conf \
		$(DESTDIR)$(UNITDIR)/user@.service.d/50-ioasids.conf
	install -D -m 0644 systemd-units/machine.slice.d/50-ioasids.conf \
		$(DESTDIR)$(UNITDIR)/machine.slice.d/50-ioasids.conf
	install -D -m 0644 systemd-units/ioasids.tmpfiles \
		$(DESTDIR)$(PREFIX)/lib/tmpfiles.d/ioasids.conf
	install -D -m 0644 systemd-units/60-ioasid.rules \
		$(DESTDIR)$(PREFIX)/lib/udev/rules.d/60-ioasid.rules
	install -d $(DESTDIR)$(SYSCONFDIR)/ioasids
	@# /etc/ioasids is the admin's: a default is installed only if absent.
	@for f in $(ETC_FILES); do \
		t=$(DESTDIR)$(SYSCONFDIR)/ioasids/$$f; \
		if [ -e "$$t" ] || [ -L "$$t" ]; then \
			echo "keeping $$t"; \
		else \
			echo "install -m 0644 systemd-units/ioasids/$$f $$t"; \
			install -m 0644 systemd-units/ioasids/$$f "$$t" || exit 1; \
		fi; \
	done
	install -D -m 0755 $(INSTALL_TOOLS)/ioasids-oci-hook \
		$(DESTDIR)$(PREFIX)/lib/ioasids/ioasids-oci-hook
	install -d $(DESTDIR)$(HOOKSDIR)
	sed 's|@HOOK@|$(PREFIX)/lib/ioasids/ioasids-oci-hook|; s|@STAGE@|$(HOOK_STAGE)|' \
		tools/ioasids-oci-hook.json.in > $(DESTDIR)$(HOOKSDIR)/ioasids.json
	install -D -m 0644 libvirt/qemu.conf \
		$(DESTDIR)$(PREFIX)/share/ioasids/libvirt/qemu.conf
	install -D -m 0644 uapi/linux/ioasid.h $(DESTDIR)$(PREFIX)/include/linux/ioasid.h
	install -d $(DESTDIR)$(PREFIX)/share/doc/ioasids
	install -m 0644 $(DOCS) $(DESTDIR)$(PREFIX)/share/doc/ioasids/
	install -m 0644 Documentation/driver-api/ioasid.rst \
		$(DESTDIR)$(PREFIX)/share/doc/ioasids/ioasid-driver-api.rst

# Removes what install put, and the directories it leaves empty; of
# /etc/ioasids only the files that are still as shipped.
uninstall:
	@for f in $(INSTALLED); do rm -f "$(DESTDIR)$$f"; done
	@for f in $(ETC_FILES); do \
		t=$(DESTDIR)$(SYSCONFDIR)/ioasids/$$f; \
		if cmp -s "systemd-units/ioasids/$$f" "$$t"; then rm -f "$$t"; \
		elif [ -e "$$t" ]; then echo "keeping $$t (changed)"; fi; \
	done
	@for d in $(sort $(dir $(INSTALLED))) $(SYSCONFDIR)/ioasids/; do \
		d=$(DESTDIR)$$d; \
		while [ "$$d" != "$(DESTDIR)" ] && [ "$$d" != "$(DESTDIR)/" ] && \
			rmdir "$$d" 2>/dev/null; do d=$$(dirname "$$d"); done; \
	done

clean:
	rm -rf build/tests build/guest build/check build/install build/package

.PHONY: help deps kernel selftests tools check demo run series deb userspace userspace-deb kunit-uml bench coverage install uninstall package clean
