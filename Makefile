# threadkit: `make demo`, `make test`, `make bench`. Each installs what it needs into .venv*.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PIP_DEPS := 'maturin>=1.16,<2' 'pytest>=8' 'pytest-timeout>=2.3' 'hypothesis>=6'
# loom explores every interleaving up to this many preemptions; 2 keeps the models to minutes.
LOOM_MAX_PREEMPTIONS ?= 2
export CARGO_TERM_COLOR ?= never

.PHONY: demo test bench rust-test loom py-test wheel develop clean

$(VENV)/.deps:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check $(PIP_DEPS)
	touch $@

# Release build installed in .venv for the demo and benchmarks.
develop: $(VENV)/.deps
	$(VENV)/bin/maturin develop --release -q

# One abi3 wheel serves every CPython 3.11+.
wheel: $(VENV)/.deps
	rm -rf dist
	$(VENV)/bin/maturin build --release -q -o dist

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

test: rust-test loom py-test

demo: develop
	@for ex in examples/*.py; do echo; echo "=== $$ex"; $(VENV)/bin/python $$ex; done
	@echo; echo "=== the same examples/unchanged_program.py, unchanged, on threadkit:"
	@echo "    python -m threadkit examples/unchanged_program.py"
	$(VENV)/bin/python -m threadkit examples/unchanged_program.py
	$(VENV)/bin/python bench/bench.py --quick

bench: develop
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check matplotlib
	$(VENV)/bin/python bench/bench.py --write bench/results.md --chart bench/results.png --readme README.md

clean:
	cargo clean
	rm -rf $(VENV) .venv-* dist
