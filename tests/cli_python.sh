#!/bin/sh
# cli_python.sh — the Python package (python/lstmsrc, ctypes over the build's liblstmsrc.so)
# through its pytest suite (python/tests): the same model bytes and predictions as the CLI,
# save/load, exceptions. Skipped, with the reason, without a python3 that has numpy and pytest
# (Debian: python3-numpy python3-pytest), and for a sanitizer build (its shared library cannot
# be loaded into python without LD_PRELOAD of the sanitizer runtime).
. tests/lib_cli.sh "$@"

py=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    command -v "$p" >/dev/null 2>&1 || continue
    if "$p" -c 'import numpy, pytest' >/dev/null 2>&1; then
        py=$p
        break
    fi
done
case "${TEST_CFLAGS:-}" in
    *-fsanitize*)
        skip "python package" "a sanitizer build's liblstmsrc.so cannot be loaded by python" ;;
    *)
        if [ -z "$py" ]; then
            skip "python package" "no python3 with numpy and pytest (python3-numpy python3-pytest)"
        else
            LSTMSRC_LIB=$BUILD/liblstmsrc.so LSTMSRC_CLI=$BUILD/lstmsrc \
                "$py" -m pytest -q -p no:cacheprovider --basetemp="$T/pytest" python/tests \
                >"$T/pytest.log" 2>&1
            rc=$?
            tail -n 30 "$T/pytest.log"
            sum=$(tail -n 1 "$T/pytest.log")
            n() { echo " $sum" | sed -n "s/.*[^0-9]\([0-9][0-9]*\) $1.*/\1/p"; }
            p=$(n passed) f=$(n failed) e=$(n error) s=$(n skipped)
            passed=$((passed + ${p:-0}))
            failed=$((failed + ${f:-0} + ${e:-0}))
            skipped=$((skipped + ${s:-0}))
            # pytest failed without a count (collection, import): one failure
            if [ "$rc" -ne 0 ] && [ -z "$f$e" ]; then failed=$((failed + 1)); fi
        fi ;;
esac

# examples/python: the quick start, and the household with one epoch (pandas: skipped without)
absbuild=$(cd "$BUILD" && pwd)
run_example() {
    (cd "$T" && PYTHONPATH="$OLDPWD/python" LSTMSRC_LIB="$absbuild/liblstmsrc.so" \
        "$py" "$OLDPWD/examples/python/$1" "$2" >"$T/example.log" 2>&1) &&
        grep -q "$3" "$T/example.log" || { cat "$T/example.log"; false; }
}
case "${TEST_CFLAGS:-}" in
    *-fsanitize*) skip "examples/python" "a sanitizer build" ;;
    *)
        if [ -n "$py" ]; then
            check "examples/python/quickstart.py" run_example quickstart.py "$absbuild/lstmsrc" \
                "test macro F1"
            if "$py" -c 'import pandas' >/dev/null 2>&1; then
                check "examples/python/households.py" run_example households.py 1 "macro F1"
            else
                skip "examples/python/households.py" "no pandas (python3-pandas)"
            fi
        fi ;;
esac

# pip install --no-build-isolation (setuptools, no network) of a copy of python/ with the
# library next to the package, as `make python` puts it: the installed package loads that one
pip_install() {
    cp -r python "$T/pysrc" && rm -rf "$T/pysrc/tests" &&
        cp "$BUILD/liblstmsrc.so" "$T/pysrc/lstmsrc/" &&
        "$py" -m pip install -q --no-build-isolation --no-deps --no-index --target "$T/pyinst" \
            "$T/pysrc" &&
        (cd "$T" && PYTHONPATH="$T/pyinst" "$py" -c 'import lstmsrc, sys
sys.exit(lstmsrc.library_path != sys.argv[1])' "$T/pyinst/lstmsrc/liblstmsrc.so")
}
case "${TEST_CFLAGS:-}" in
    *-fsanitize*) skip "pip install ./python" "a sanitizer build" ;;
    *)
        if [ -n "$py" ] && "$py" -c 'import setuptools' >/dev/null 2>&1 && "$py" -m pip --version >/dev/null 2>&1; then
            check "pip install ./python: the package loads the library installed with it" \
                pip_install
        else
            skip "pip install ./python" "no python3 with pip and setuptools (python3-pip python3-setuptools)"
        fi ;;
esac

echo "cli_python: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
