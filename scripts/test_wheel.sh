#!/usr/bin/env bash
# Tests the built wheel as a user gets it: `scripts/test_wheel.sh dist/threadkit-*.whl`.
#
# 1. Its platform tag is manylinux_2_17 (manylinux2014) or older, by its name and by
#    `auditwheel show` (the symbols it really needs; $AUDITWHEEL, default `auditwheel`).
# 2. For every CPython 3.11+ that scripts/pythons finds: a fresh venv in a temporary folder,
#    the wheel installed by pip as from an index (--no-index --find-links: the wheel's tag must
#    suit the interpreter; --only-binary: nothing may be built), with no Rust toolchain on PATH
#    (every PATH entry holding cargo or rustc is dropped, and `command -v cargo` must fail);
#    then, from outside the source tree, `import threadkit` must come from the venv, and the
#    examples (tests/test_examples.py) and a smoke subset of the tests run against it.
#
# Exits non-zero on the first failure; prints one summary line per Python at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SMOKE_TESTS=(test_examples.py test_lock.py test_queue.py test_futures.py test_install.py test_main.py
             test_process_life.py)
TEST_DEPS=('pytest>=8' 'pytest-timeout>=2.3' 'hypothesis>=6')

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 dist/threadkit-VERSION-cp311-abi3-manylinux_....whl (exactly one wheel)" >&2
  exit 2
fi
wheel=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
wheel_dir=$(dirname "$wheel")
name=$(basename "$wheel")
echo "=== wheel: $name"

# --- 1. the platform tag -------------------------------------------------------------------
# manylinux_2_N for N <= 17, or the legacy names of 2_17 and older (manylinux2014/2010/1).
tag_ok() {
  local t=$1
  case $t in
    manylinux2014_x86_64 | manylinux2010_x86_64 | manylinux1_x86_64) return 0 ;;
  esac
  [[ $t =~ ^manylinux_2_([0-9]+)_x86_64$ ]] && [ "${BASH_REMATCH[1]}" -le 17 ]
}
platforms=${name%.whl}
platforms=${platforms##*-}
[[ $name == *-cp311-abi3-* ]] || { echo "FAIL: not a cp311-abi3 wheel: $name" >&2; exit 1; }
IFS=. read -r -a tags <<<"$platforms"
for t in "${tags[@]}"; do
  tag_ok "$t" || { echo "FAIL: platform tag $t is newer than manylinux_2_17_x86_64" >&2; exit 1; }
done
echo "platform tags in the name: ${tags[*]}"

shown=$("${AUDITWHEEL:-auditwheel}" show "$wheel")
# auditwheel: '... is consistent with the following platform tag: "manylinux_2_17_x86_64".'
consistent=$(tr '\n' ' ' <<<"$shown" | grep -oE 'following platform tag: *"[^"]+"' | grep -oE '"[^"]+"' | tr -d '"')
if [ -z "$consistent" ] || ! tag_ok "$consistent"; then
  echo "$shown" >&2
  echo "FAIL: auditwheel says the wheel needs platform '${consistent:-?}', newer than manylinux_2_17" >&2
  exit 1
fi
echo "auditwheel show: consistent with $consistent"

# The unwinder: libgcc_s's, shared with glibc's pthread_exit(), not one linked into the
# extension (zig's libunwind, see the Makefile's wheel target): then _Unwind_RaiseException
# is an undefined symbol of the extension, versioned GCC_3.0.
so=$(mktemp -d "${TMPDIR:-/tmp}/threadkit-wheel-so.XXXXXX")
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if n.endswith(".so")]' "$wheel" "$so"
# The symbol table is read whole first: `objdump | grep -q` under pipefail fails whenever grep
# stops reading early and objdump gets SIGPIPE, which made this check flaky.
symbols=$(objdump -T "$so"/threadkit/*.so)
if ! grep -qE '\*UND\*.*GCC_[0-9.]+\)? +_Unwind_RaiseException$' <<<"$symbols"; then
  rm -rf "$so"
  echo "FAIL: the extension does not take _Unwind_RaiseException from libgcc_s.so.1: it carries its own unwinder, which crashes at exit when CPython ends daemon threads" >&2
  exit 1
fi
rm -rf "$so"
echo "unwinder: libgcc_s.so.1's"

# --- 2. a PATH without Rust ----------------------------------------------------------------
clean_path=
IFS=: read -r -a entries <<<"$PATH"
for d in "${entries[@]}"; do
  [ -n "$d" ] || continue
  [ "$d" = "${CARGO_HOME:-$HOME/.cargo}/bin" ] && continue
  [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || [ -e "$d/rustup" ] && continue
  clean_path=${clean_path:+$clean_path:}$d
done
norust=(env -u CARGO_HOME -u RUSTUP_HOME -u RUSTUP_TOOLCHAIN -u CARGO_TARGET_DIR -u RUSTFLAGS
        -u PYTHONPATH -u VIRTUAL_ENV -u THREADKIT_INSTALL)
for tool in cargo rustc; do
  if "${norust[@]}" PATH="$clean_path" bash -c "command -v $tool" >/dev/null; then
    echo "FAIL: $tool is still on the cleaned PATH: $("${norust[@]}" PATH="$clean_path" bash -c "command -v $tool")" >&2
    exit 1
  fi
done
echo "PATH without Rust: cargo and rustc not found"

# --- 3. per CPython --------------------------------------------------------------------------
pythons=$(scripts/pythons)
if [ -z "$pythons" ]; then
  echo "FAIL: no CPython 3.11+ found" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/threadkit-wheel-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
summary=()
for py in $pythons; do
  ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  echo
  echo "=== CPython $ver ($py): fresh venv, wheel from $wheel_dir, no Rust on PATH"
  venv=$work/venv-$ver
  "${norust[@]}" PATH="$clean_path" "$py" -m venv "$venv"
  run() { "${norust[@]}" PATH="$venv/bin:$clean_path" "$@"; }
  run bash -c '! command -v cargo && ! command -v rustc' >/dev/null
  pip=(run "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary :all:)
  "${pip[@]}" --no-index --find-links "$wheel_dir" threadkit
  "${pip[@]}" "${TEST_DEPS[@]}"
  # From an empty folder: nothing of the source tree can shadow the installed package.
  (cd "$work" && run "$venv/bin/python" - "$venv" <<'EOF'
import importlib.metadata, os, sys
venv = os.path.realpath(sys.argv[1])
import threadkit, threadkit._core, threadkit.futures, threadkit.queue, threadkit.threading
for mod in (threadkit, threadkit._core):
    assert os.path.realpath(mod.__file__).startswith(venv + os.sep), mod.__file__
lock = threadkit.Lock()
with lock:
    assert lock.locked()
print("import threadkit %s from %s" % (importlib.metadata.version("threadkit"),
                                       os.path.dirname(threadkit._core.__file__)))
EOF
  )
  # The same tests `make py-test` runs, on the installed wheel: tests/ has no copy of the
  # package (it lives in python/), so `import threadkit` can only find the venv's.
  if (cd tests && run "$venv/bin/python" -m pytest -q -p no:cacheprovider "${SMOKE_TESTS[@]}"); then
    summary+=("CPython $ver: passed")
  else
    echo "FAIL: the tests failed on CPython $ver with the installed wheel" >&2
    summary+=("CPython $ver: FAILED")
    printf '%s\n' "${summary[@]}"
    exit 1
  fi
done
echo
echo "=== $name, installed without Rust, tested on:"
printf '%s\n' "${summary[@]}"
