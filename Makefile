# threadkit: `make demo`, `make test`, `make bench`, `make dist`, `make docs`. Each installs what
# it needs into .venv*.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PIP_DEPS := 'maturin>=1.16,<2' 'pytest>=8' 'pytest-timeout>=2.3' 'hypothesis>=6'
# The wheel's tools: zig as the linker against glibc 2.17 (docs/development.md says why),
# auditwheel to read the wheel's platform tag, twine to check the metadata an index renders.
DIST_DEPS := 'ziglang>=0.13,<0.18' 'auditwheel>=6' 'twine>=6'
# The wheel's platform: manylinux2014 = manylinux_2_17 (glibc 2.17, CentOS 7 and everything after).
MANYLINUX := manylinux2014
# The documentation site's tools, in their own venv.
DOCS_VENV := .venv-docs
DOCS_DEPS := 'mkdocs>=1.6,<2' 'mkdocs-material>=9.5,<10' 'mkdocstrings>=0.29,<2' 'mkdocstrings-python>=1.16,<3' \
  'ruff>=0.5'
# loom explores every interleaving up to this many preemptions; 2 keeps the models to minutes.
LOOM_MAX_PREEMPTIONS ?= 2
export CARGO_TERM_COLOR ?= never

.PHONY: demo test bench bench-programs rust-test loom py-test wheel wheel-test dist docs develop clean real-world

$(VENV)/.deps:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check $(PIP_DEPS)
	touch $@

# Release build installed in .venv for the demo and benchmarks.
develop: $(VENV)/.deps
	$(VENV)/bin/maturin develop --release -q

$(VENV)/.dist-deps: $(VENV)/.deps
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check $(DIST_DEPS)
	touch $@

# One abi3 wheel serves every CPython 3.11+: the wheel that is published, and the one the
# tests install. zig links it against glibc 2.17's symbols, and maturin refuses it if it
# needs anything newer than $(MANYLINUX) allows. maturin finds zig (`python -m ziglang`) in
# the venv through PATH.
# The unwinder must be the system's libgcc_s.so.1 (allowed by every manylinux policy), not
# the static LLVM libunwind that zig links in its place: at exit, CPython 3.11-3.13 ends a
# daemon thread with pthread_exit(), whose forced unwind runs in libgcc_s through our frames,
# and Rust's personality routine would read libgcc_s's unwind context with libunwind's
# functions (a crash, seen in tests/test_process_life.py). Naming the library on the link
# line makes every _Unwind_* symbol resolve to it.
LIBGCC_S := $(shell $(CC) -print-file-name=libgcc_s.so.1)
wheel: $(VENV)/.dist-deps
	rm -f dist/*.whl
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" RUSTFLAGS="$${RUSTFLAGS:-} -C link-arg=$(LIBGCC_S)" \
	  $(VENV)/bin/maturin build --release -q -o dist --zig --compatibility $(MANYLINUX)

# What is published: the wheel and an sdist, with their metadata checked as an index reads it.
dist: wheel
	rm -f dist/*.tar.gz
	$(VENV)/bin/maturin sdist -o dist
	$(VENV)/bin/twine --no-color check --strict dist/*
	$(VENV)/bin/auditwheel show dist/*.whl
	@echo; echo "dist/:"; ls -1 dist

# The wheel as a user gets it: a fresh venv per CPython 3.11+, no Rust toolchain on PATH.
wheel-test: wheel
	AUDITWHEEL=$(CURDIR)/$(VENV)/bin/auditwheel scripts/test_wheel.sh dist/*.whl

rust-test:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test -p threadkit

loom:
	RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=$(LOOM_MAX_PREEMPTIONS) CARGO_TARGET_DIR=target/loom \
	  cargo test -p threadkit --release --test 'loom_*' -- --test-threads=2

# pytest on every CPython 3.11+ on the machine, each in its own .venv-X.Y with the wheel.
py-test: wheel
	@found=0; for py in $$(scripts/pythons); do \
	  found=1; ver=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  echo "=== pytest on CPython $$ver ($$py)"; \
	  [ -x .venv-$$ver/bin/python ] || $$py -m venv .venv-$$ver; \
	  .venv-$$ver/bin/python -m pip install -q --disable-pip-version-check 'pytest>=8' 'pytest-timeout>=2.3' 'hypothesis>=6'; \
	  .venv-$$ver/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps dist/*.whl; \
	  (cd tests && ../.venv-$$ver/bin/python -m pytest -q -p no:cacheprovider .) ; \
	done; \
	if [ $$found = 0 ]; then echo "no CPython 3.11+ found: Python tests skipped"; fi

test: rust-test loom py-test wheel-test

# Other projects' test suites (pinned sdists from PyPI), each run plainly and under
# `python -m threadkit -m pytest`, in venvs under ~/.cache/threadkit-real-world: the README's
# table. It downloads, so it is not part of `test`. REAL_WORLD_ARGS="--only pykka" for a subset.
REAL_WORLD_ARGS ?=
real-world: wheel
	$(VENV)/bin/python scripts/real_world.py --wheel $$(ls dist/*.whl) $(REAL_WORLD_ARGS)

# The documentation site (site/, not committed): mkdocs over docs/, the Python API from the
# docstrings and stubs of the wheel installed in $(DOCS_VENV), the Rust API from `cargo doc`
# (copied to site/rust/ by scripts/mkdocs_hooks.py). --strict: any warning fails the build.
$(DOCS_VENV)/.deps:
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install -q --disable-pip-version-check $(DOCS_DEPS)
	touch $@

docs: $(DOCS_VENV)/.deps wheel
	$(DOCS_VENV)/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps dist/*.whl
	RUSTDOCFLAGS="-D warnings" cargo doc -p threadkit --no-deps
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs build --strict
	@echo "site/index.html: the documentation's entry page"

demo: develop
	@for ex in examples/*.py; do echo; echo "=== $$ex"; $(VENV)/bin/python $$ex; done
	@echo; echo "=== the same examples/unchanged_program.py, unchanged, on threadkit:"
	@echo "    python -m threadkit examples/unchanged_program.py"
	$(VENV)/bin/python -m threadkit examples/unchanged_program.py
	$(VENV)/bin/python bench/bench.py --quick

bench: develop
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check matplotlib
	$(VENV)/bin/python bench/bench.py --write bench/results.md --chart bench/results.png --readme README.md
	$(VENV)/bin/python bench/bench.py --debug --readme README.md

# Whole programs (bench/programs/), timed as processes plainly and under python -m threadkit.
bench-programs: develop
	$(VENV)/bin/python bench/programs/run.py --write bench/programs/results.md

clean:
	cargo clean
	rm -rf $(VENV) .venv-* dist site
