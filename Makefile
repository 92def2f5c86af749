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
	@echo "make bench    benchmarks on a non-debug kernel: ratios, plot"
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

bench: deps
	@bash tests/bench/run

clean:
	rm -rf build/tests build/guest build/check

.PHONY: help deps kernel selftests tools check demo run series deb bench clean
