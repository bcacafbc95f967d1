#!/bin/sh
# cli_library.sh — liblstmsrc as a library a program links and a system installs: both the
# static and the shared library export the API's functions and nothing else (a program with
# its own transpose() or set_error() links with them; the internal archive, as a control,
# does not); `make install PREFIX DESTDIR` puts the header, both libraries (with a soname),
# lstmsrc.pc, the CLI and lstmsrc(1) where they belong, and a program built from the
# installed files alone, through pkg-config, runs against the shared and the static library;
# `make uninstall` removes exactly that. The C compiler and flags are the build's (TEST_CC,
# TEST_CFLAGS, TEST_LDLIBS from the Makefile: under sanitizers the programs link them too).
. tests/lib_cli.sh "$@"
CC=${TEST_CC:-cc}
XFLAGS=${TEST_CFLAGS:-}
LIBS=${TEST_LDLIBS:--lm -lpthread}
A=$BUILD/liblstmsrc.a
SO=$BUILD/liblstmsrc.so

# ---- every global symbol is an API function, declared in the header
exports() { # FILE NM-FLAGS: the defined global symbols (the version script's node excluded)
    nm $2 --defined-only "$1" | awk 'NF == 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' |
        sort -u
}
foreign() { # the symbols of $1 that are not lstmsrc_NAME( in include/lstmsrc.h
    while read -r s; do
        case "$s" in lstmsrc_*) grep -q "[ *]$s(" include/lstmsrc.h || echo "$s" ;; *) echo "$s" ;; esac
    done <"$1"
}
exports "$A" -g >"$T/a.syms"
exports "$SO" -D >"$T/so.syms"
n=$(lines "$T/a.syms")
check "liblstmsrc.a exports the API ($n functions, at least 70)" test "$n" -ge 70
foreign "$T/a.syms" >"$T/a.bad"
check "liblstmsrc.a: no other global symbol" sh -c "cat '$T/a.bad'; test ! -s '$T/a.bad'"
foreign "$T/so.syms" >"$T/so.bad"
check "liblstmsrc.so: no other exported symbol" sh -c "cat '$T/so.bad'; test ! -s '$T/so.bad'"
check "the two export the same functions" cmp "$T/a.syms" "$T/so.syms"
check "the soname is liblstmsrc.so.MAJOR" sh -c "readelf -d '$SO' | grep -q 'SONAME.*\\[liblstmsrc\\.so\\.[0-9]*\\]'"

# ---- a program with its own internal-sounding names links with the library
cat >"$T/own.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "lstmsrc.h"
/* names the library uses inside, defined here with other meanings */
int transpose(int x) { return -x; }
int set_error(int x) { return x + 1; }
int write_all(int x) { return x * 2; }
char *str_dup(const char *s) { (void)s; return NULL; }
int main(int argc, char **argv)
{
    if (lstmsrc_version_number() != LSTMSRC_VERSION_NUMBER ||
        strcmp(lstmsrc_version(), LSTMSRC_VERSION) != 0) {
        fprintf(stderr, "version %s (%d), header %s (%d)\n", lstmsrc_version(),
                lstmsrc_version_number(), LSTMSRC_VERSION, LSTMSRC_VERSION_NUMBER);
        return 1;
    }
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (argc > 1 && lstmsrc_model_load(argv[1], &m, &err) != LSTMSRC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    struct lstmsrc_model_info info;
    if (m) lstmsrc_model_get_info(m, &info);
    printf("%d %d %d %s\n", transpose(3), set_error(1), write_all(2), m ? "loaded" : "-");
    lstmsrc_model_free(m);
    return 0;
}
C
"$L" gen --rows 20000 --seed 3 -o "$T/g.csv" >/dev/null
"$L" train "$T/g.csv" -o "$T/m.lsm" --epochs 1 --hidden 8 --seq 5 --threads 1 --quiet >/dev/null 2>&1
# shellcheck disable=SC2086
check "a program with its own transpose/set_error/write_all/str_dup links with liblstmsrc.a" \
    sh -c "$CC $XFLAGS -Iinclude '$T/own.c' '$A' $LIBS -o '$T/own_a' && '$T/own_a' '$T/m.lsm' | grep -qx -- '-3 2 4 loaded'"
check "... and with liblstmsrc.so" \
    sh -c "$CC $XFLAGS -Iinclude '$T/own.c' -L'$BUILD' -llstmsrc $LIBS -o '$T/own_so' && \
           LD_LIBRARY_PATH='$BUILD' '$T/own_so' '$T/m.lsm' | grep -qx -- '-3 2 4 loaded'"
check "control: the internal archive clashes with the same program" \
    sh -c "! $CC $XFLAGS -Iinclude '$T/own.c' '$BUILD/liblstmsrc-internal.a' $LIBS -o '$T/own_i' 2>'$T/clash'; \
           grep -q 'multiple definition' '$T/clash'"

# ---- make install / uninstall into a staging directory
D=$T/stage
if make -s install BUILD="$BUILD" PREFIX=/opt/lsm DESTDIR="$D" >"$T/install.log" 2>&1; then
    ok=1
else
    ok=0
    sed -n 1,20p "$T/install.log"
fi
check "make install PREFIX=/opt/lsm DESTDIR=...: exit 0" test "$ok" -eq 1
P=$D/opt/lsm
for f in include/lstmsrc.h lib/liblstmsrc.a lib/liblstmsrc.so lib/pkgconfig/lstmsrc.pc \
    bin/lstmsrc share/man/man1/lstmsrc.1; do
    check "installed $f" test -s "$P/$f"
done
so=$(cd "$P/lib" && ls liblstmsrc.so.*.*.* 2>/dev/null | head -n 1)
check "installed $so with its soname link" sh -c "test -n '$so' && test -L '$P/lib/liblstmsrc.so' && \
    test -e '$P/lib/'\$(readelf -d '$P/lib/$so' | sed -n 's/.*SONAME.*\\[\\(.*\\)\\]/\\1/p')"
check "lstmsrc.pc names the prefix and the version" \
    sh -c "grep -qx 'prefix=/opt/lsm' '$P/lib/pkgconfig/lstmsrc.pc' && \
           grep -qx \"Version: \$('$L' --version | awk '{print \$2}')\" '$P/lib/pkgconfig/lstmsrc.pc'"
if command -v pkg-config >/dev/null 2>&1; then
    PC="env PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D pkg-config"
    # shellcheck disable=SC2086
    check "examples/stream_library from the installed files (pkg-config, shared)" \
        sh -c "$CC $XFLAGS \$($PC --cflags lstmsrc) examples/stream_library.c \$($PC --libs lstmsrc) $LIBS \
               -o '$T/ex_so' && readelf -d '$T/ex_so' | grep -q 'NEEDED.*liblstmsrc.so' && \
               LD_LIBRARY_PATH='$P/lib' '$T/ex_so' '$T/m.lsm' <'$T/g.csv' >'$T/ex_so.out' && \
               test \$(wc -l <'$T/ex_so.out') -eq 20000"
    check "... and against the static library (pkg-config --static)" \
        sh -c "$CC $XFLAGS \$($PC --cflags lstmsrc) examples/stream_library.c '$P/lib/liblstmsrc.a' \
               \$($PC --static --libs-only-l lstmsrc | sed 's/-llstmsrc//') $LIBS -o '$T/ex_a' && \
               '$T/ex_a' '$T/m.lsm' <'$T/g.csv' | cmp - '$T/ex_so.out'"
else
    skip "pkg-config builds" "pkg-config is not installed"
fi
check "the installed lstmsrc runs" sh -c "'$P/bin/lstmsrc' --version | grep -q '^lstmsrc '"
make -s uninstall BUILD="$BUILD" PREFIX=/opt/lsm DESTDIR="$D" >/dev/null 2>&1
check "make uninstall removes every file it installed" sh -c "test -z \"\$(find '$D' -type f -o -type l)\""

# ---- lstmsrc(1): every command, and every option of its --help
M=$BUILD/lstmsrc.1
sed 's/\\-/-/g' "$M" >"$T/man.txt"
for c in $("$L" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}'); do
    missing=""
    for o in $("$L" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        sed -n "/^\\.SS lstmsrc $c\$/,/^\\.SS /p" "$T/man.txt" | grep -q -- "$o" || missing="$missing $o"
    done
    check "lstmsrc(1) has $c and every option of its --help$missing" \
        sh -c "grep -qx '.SS lstmsrc $c' '$T/man.txt' && test -z '$missing'"
done
if command -v man >/dev/null 2>&1; then
    check "lstmsrc(1) renders without a warning" \
        sh -c "MANWIDTH=80 man --warnings -l '$M' 2>'$T/man.err' >/dev/null && test ! -s '$T/man.err'"
else
    skip "man rendering" "man is not installed"
fi

echo "cli_library: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
