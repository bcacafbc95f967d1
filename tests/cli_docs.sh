#!/bin/sh
# cli_docs.sh — every example in README.md and docs/*.md is run and its output compared with what
# the doc shows, so the docs cannot drift from the program. The convention (docs/DESIGN.md,
# "Examples in the docs"): a fenced block is marked by a `<!-- check: KIND ... -->` comment right
# before it; a ```sh block without one is run, any other block without one fails.
#   run          shell commands, run in the doc's scratch directory (one per doc, in doc order)
#   output       what the last run block (or the hidden commands in the comment) prints
#   transcript   `$ command` lines, each followed by what it prints
#   setup        (a comment alone) hidden commands that make what the next examples need
#   no REASON    not a command or its output (a synopsis, a data sample, C code ...), or a
#                command this test cannot run (the reason says why)
# Options after the kind: slow (a sanitizer build skips it and the rest of its doc; DOCS_SLOW=1
# runs it anyway), zlib (a build without zlib skips it and the rest of its doc), avx2 (numbers
# from a training run: compared only where the kernels are AVX2 or AVX-512, which write the same
# bytes), json (whitespace outside strings ignored, `...` any text), status=N (exit status, 0),
# python (the Python package: skipped with the rest of its doc without a python3 that has numpy,
# or in a sanitizer build; run with that python3 as `python3`, python/ on PYTHONPATH and
# LSTMSRC_LIB the build's library).
# A mismatch fails naming DOC:LINE, with the doc's line and the one printed in its place.
# Usage: sh tests/cli_docs.sh [BUILD [DOC.md ...]]. Ends with "cli_docs: N passed, N failed, N skipped".
. tests/lib_cli.sh "$@"
[ $# -gt 0 ] && shift
REPO=$(pwd)
LABS=$(cd "$(dirname "$L")" && pwd)/$(basename "$L")
[ -x "$LABS" ] || { echo "cli_docs: no $L (build it first)"; echo "cli_docs: 0 passed, 1 failed, 0 skipped"; exit 1; }
if [ $# -gt 0 ]; then DOCS=$*; else DOCS="README.md $(ls docs/*.md)"; fi

# a sanitizer build (make check, CI's clang run) is several times slower: slow blocks skip there
san=
case " ${TEST_CFLAGS:-} " in *-fsanitize*) san="a sanitizer build ($TEST_CFLAGS)" ;; esac
[ -n "$san" ] || ! grep -q '__asan_init\|__ubsan_handle' "$LABS" || san="a sanitizer build ($BUILD)"
[ -z "${DOCS_SLOW:-}" ] || san=
# gzip-compressed input needs zlib (make ZLIB=0 builds without it)
nozlib=
"$LABS" --version | grep -q 'gzip input: zlib' || nozlib="this build reads no gzip (built without zlib)"
# the Python package needs a python3 with numpy, and a build whose .so python can load
nopy=
pyexe=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    command -v "$p" >/dev/null 2>&1 || continue
    if "$p" -c 'import numpy' >/dev/null 2>&1; then pyexe=$(command -v "$p"); break; fi
done
[ -n "$pyexe" ] || nopy="no python3 with numpy here (Debian: python3-numpy)"
case " ${TEST_CFLAGS:-} " in *-fsanitize*) nopy="a sanitizer build's liblstmsrc.so cannot be loaded by python" ;; esac
! grep -q '__asan_init\|__ubsan_handle' "$LABS" || nopy="a sanitizer build's liblstmsrc.so cannot be loaded by python"
LIBSO=$(dirname "$LABS")/liblstmsrc.so
# training numbers are the same bytes on AVX2 and AVX-512 (tests/cli_isa.sh), not on portable
kern=$("$LABS" --version | sed -n 's/.*kernels: \([a-z0-9]*\).*/\1/p')
case "$kern" in avx2 | avx512 | amx) nums= ;; *) nums="kernels $kern round differently from AVX2/AVX-512: a training run's numbers differ" ;; esac

# ---- the blocks of one doc: "N<TAB>KIND<TAB>LINE<TAB>OPTS" per block in $W/list, its text in
# $W/N.body, the comment's hidden commands in $W/N.hide, each error as "N<TAB>error<TAB>LINE<TAB>MSG"
cat >"$T/blocks.awk" <<'EOF'
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function err(line, msg) { n++; printf "%d\terror\t%d\t%s\n", n, line, msg > LIST }
function item(k, kind, line, opts) { printf "%d\t%s\t%d\t%s\n", k, kind, line, opts > LIST }
function comment_done(    w, i, o) {
    incom = 0
    if (ckind == "setup") { item(cn, "setup", cline, ""); return }
    if (ckind == "no") {
        if (trim(crest) == "") err(cline, "<!-- check: no --> needs a reason (why this block is not checked)")
        else pending = 1
        return
    }
    if (ckind !~ /^(run|output|transcript)$/) {
        err(cline, "unknown check kind \"" ckind "\" (run, output, transcript, setup or no REASON)")
        return
    }
    w = split(crest, o, /[ \t]+/)
    for (i = 1; i <= w; i++)
        if (o[i] != "" && o[i] !~ /^(slow|zlib|avx2|json|python|status=[0-9]+)$/) {
            err(cline, "unknown check option \"" o[i] "\" (slow, zlib, avx2, json, python, status=N)")
            return
        }
    if (ckind == "run" && hidden) { err(cline, "a run marker takes no hidden commands (use setup)"); return }
    pending = 1
}
BEGIN { n = 0; incom = 0; infence = 0; pending = 0 }
infence {
    if ($0 ~ /^[ \t]*```+[ \t]*$/) { close(body); infence = 0; next }
    line = $0
    if (ind > 0 && substr(line, 1, ind) ~ /^ *$/) line = substr(line, ind + 1)
    print line > body
    next
}
incom {
    t = $0
    if (index(t, "-->")) { sub(/-->.*/, "", t); if (ckind == "no") crest = crest " " t; else if (trim(t) != "") { print t > hide; hidden = 1 }; close(hide); comment_done(); next }
    if (ckind == "no") crest = crest " " t
    else { print t > hide; hidden = 1 }
    next
}
/^[ \t]*<!--[ \t]*check:/ {
    if (pending) { err(cline, "check marker not right before a fenced block"); pending = 0 }
    n++; cn = n; cline = NR; hidden = 0; hide = W "/" cn ".hide"
    t = $0; sub(/^[ \t]*<!--[ \t]*check:[ \t]*/, "", t)
    closed = index(t, "-->") > 0
    sub(/-->.*/, "", t)
    t = trim(t)
    ckind = t; sub(/[ \t,:].*/, "", ckind)
    crest = substr(t, length(ckind) + 1); sub(/^[ \t,:]+/, "", crest)
    printf "" > hide
    incom = 1
    if (closed) { close(hide); comment_done() }
    next
}
/^[ \t]*```/ {
    t = $0; match(t, /^ */); ind = RLENGTH
    info = t; sub(/^[ \t]*```+/, "", info); info = trim(info)
    if (pending) { k = cn; kind = ckind; opts = trim(crest); pending = 0 }
    else if (info ~ /^(sh|shell|bash)$/) { n++; k = n; kind = "run"; opts = "" }
    else {
        n++; k = n; kind = "unmarked"; opts = ""
        err(NR, "a ```" info " block with no <!-- check: ... --> marker: mark it run, output, transcript or no REASON (docs/DESIGN.md, Examples in the docs)")
    }
    if (kind == "no") opts = ""
    item(k, kind, NR, opts)
    body = W "/" k ".body"; printf "" > body
    infence = 1
    next
}
/[^ \t]/ { if (pending) { err(cline, "check marker not right before a fenced block"); pending = 0 } }
END {
    if (infence) err(NR, "fenced block not closed")
    if (incom) err(cline, "check comment not closed (-->)")
    if (pending) err(cline, "check marker not right before a fenced block")
}
EOF

# ---- normalisation, the same for the doc's text and the program's output: trailing blanks and
# blank lines at the end dropped; a number glued to a time unit (3.4s, 13us/step, 250ms) and the
# number of "N windows/s" become #; so do --version's kernel names and what it says of gzip
cat >"$T/norm.awk" <<'EOF'
function glued(s, re, keep,    out, rest, pre, post, tok, u) {
    out = ""; rest = s
    while (match(rest, re)) {
        pre = RSTART > 1 ? substr(rest, RSTART - 1, 1) : ""
        post = substr(rest, RSTART + RLENGTH, 1)
        tok = substr(rest, RSTART, RLENGTH)
        if (pre !~ /[A-Za-z0-9_.]/ && post !~ /[A-Za-z0-9_]/) {
            u = tok; sub(keep, "", u)
            out = out substr(rest, 1, RSTART - 1) "#" u
        } else out = out substr(rest, 1, RSTART + RLENGTH - 1)
        rest = substr(rest, RSTART + RLENGTH)
    }
    return out rest
}
{
    s = $0
    sub(/[ \t\r]+$/, "", s)
    s = glued(s, "[0-9][0-9.]*(ms|us|µs|s)", "^[0-9.]*")
    s = glued(s, "[0-9][0-9.,]*( k)? windows/s", "^[0-9.,]*( k)?")
    sub(/kernels: [a-z0-9]+; this CPU's best: [a-z0-9]+/, "kernels: #; this CPU's best: #", s)
    sub(/gzip input: [^)]*\)$/, "gzip input: #)", s)
    line[NR] = s
}
END { last = NR; while (last > 0 && line[last] == "") last--; for (i = 1; i <= last; i++) print line[i] }
EOF

# ---- EXP (the doc, normalised) against ACT: prints "0 0" when they match, else the line of EXP
# (1-based; one past its end when the output goes on) where they part and the line of ACT it
# was compared with (0 when none). A line "..." in EXP
# stands for any number of lines. With -v json=1 the texts are compared with whitespace outside
# strings removed and "..." standing for any text.
cat >"$T/match.awk" <<'EOF'
function compact(s,    i, c, q, out) {
    out = ""; q = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\"" && (i == 1 || substr(s, i - 1, 1) != "\\")) q = !q
        if (!q && (c == " " || c == "\t" || c == "\n")) continue
        out = out c
    }
    return out
}
function piece(k) { print "1 0"; print "the text \"" P[k] "\" is not where the doc has it" > PF }
function seg_at(p, s, e,    j) {
    if (p < 1 || p + (e - s) > na) return 0
    for (j = s; j <= e; j++) if (E[j] != A[p + j - s]) return 0
    return 1
}
FNR == NR { E[++ne] = $0; ex = ex $0 "\n"; next }
{ A[++na] = $0; ac = ac $0 "\n" }
END {
    if (json) {
        ex = compact(ex); ac = compact(ac)
        np = split(ex, P, /\.\.\./)
        if (np == 0) { print (ac == "" ? "0 0" : "1 0"); exit }
        pos = 1
        for (k = 1; k <= np; k++) {
            if (k == 1) { if (substr(ac, 1, length(P[1])) != P[1]) { piece(1); exit }; pos = length(P[1]) + 1; continue }
            if (k == np) {
                if (length(ac) - length(P[k]) + 1 < pos || substr(ac, length(ac) - length(P[k]) + 1) != P[k]) { piece(k); exit }
                continue
            }
            r = index(substr(ac, pos), P[k])
            if (r == 0) { piece(k); exit }
            pos += r - 1 + length(P[k])
        }
        if (np == 1 && ac != ex) { piece(1); exit }
        print "0 0"; exit
    }
    ns = 0; s = 1
    for (i = 1; i <= ne + 1; i++)
        if (i == ne + 1 || E[i] == "...") {
            ns++; S[ns] = s; F[ns] = i - 1; s = i + 1
        }
    if (ns == 1) {
        for (i = 1; i <= ne && i <= na; i++) if (E[i] != A[i]) { print i, i; exit }
        if (ne == na) print "0 0"; else if (ne < na) print ne + 1, ne + 1; else print na + 1, 0
        exit
    }
    pos = 1
    for (k = 1; k <= ns; k++) {
        s = S[k]; e = F[k]
        if (e < s) continue
        if (k == 1) {
            for (i = s; i <= e; i++) if (i > na || E[i] != A[i]) { print i, (i > na ? 0 : i); exit }
            pos = e + 1; continue
        }
        if (k == ns) {
            p = na - (e - s)
            if (p < pos) { print s, 0; exit }
            for (j = s; j <= e; j++) if (E[j] != A[p + j - s]) { print j, p + j - s; exit }
            pos = na + 1; continue
        }
        for (p = pos; p <= na; p++) if (seg_at(p, s, e)) break
        if (p > na) { print s, 0; exit }
        pos = p + (e - s) + 1
    }
    print "0 0"
}
EOF

# the shell around every example: `make` alone does nothing (this test runs on the build it was
# given), anything else from make is refused
cat >"$T/prelude.sh" <<'EOF'
make() { [ $# -eq 0 ] && return 0; echo "cli_docs: \"make $*\" is not run by the doc check" >&2; return 1; }
EOF

# runs FILE (shell commands) in the doc's scratch directory $S: output (stdout and stderr, as they
# come) in OUT; sets rc
run_in() {
    (cd "$S" && PATH="$S/bin:$PATH" REPO=$REPO PYTHONPATH="$REPO/python${PYTHONPATH:+:$PYTHONPATH}" \
        LSTMSRC_LIB=$LIBSO sh -e -c '. "$1"; . "$2"' sh "$T/prelude.sh" "$1") \
        >"$2" 2>&1 </dev/null
    rc=$?
}
want_status() { # OPTS: the status= in them, else 0
    w=$(echo " $1 " | sed -n 's/.* status=\([0-9][0-9]*\) .*/\1/p')
    echo "${w:-0}"
}
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

ok() { passed=$((passed + 1)); printf "ok %s\n" "$1"; }
fail() { failed=$((failed + 1)); printf "FAIL %s\n" "$1"; }
tail_of() { sed -n '1,12p' "$1" | sed 's/^/    | /'; }

# differs DOC LINE: after a failed match ($at, $aat from match.awk on $T/exp.n, $T/act.n), the
# doc's line and the one printed in its place, and a short diff when the doc elides nothing
differs() {
    [ "$at" -le "$(lines "$T/exp.n")" ] && echo "    doc $1:$(($2 + at)): $(sed -n "${at}p" "$T/exp.n")"
    if [ "$aat" -gt 0 ]; then echo "    printed:  $(sed -n "${aat}p" "$T/act.n")"
    else echo "    printed:  (no such line where the doc has it; $(lines "$T/act.n") lines printed)"; fi
    grep -qx '\.\.\.' "$T/exp.n" || diff "$T/exp.n" "$T/act.n" | sed -n '1,12p' | sed 's/^/    /'
}

# compare DOC LINE0 EXPFILE ACTFILE OPTS NAME: the output in ACTFILE against the doc's text
compare() {
    awk -f "$T/norm.awk" "$3" >"$T/exp.n"
    awk -f "$T/norm.awk" "$4" >"$T/act.n"
    j=0; has "$5" json && j=1
    r=$(awk -v json=$j -v PF="$T/piece" -f "$T/match.awk" "$T/exp.n" "$T/act.n")
    at=${r% *}; aat=${r#* }
    if [ "$at" = 0 ]; then ok "$1:$2: $6"; return; fi
    fail "$1:$(($2 + at)): $6 (the block at $1:$2): the doc shows what the program no longer prints"
    if [ $j = 1 ]; then sed 's/^/    /' "$T/piece"; else differs "$1" "$2"; fi
}

# transcript DOC LINE0 BODY OPTS: each "$ command" (continued by a trailing \) run, what follows
# it compared with what it prints
transcript() {
    awk -v D="$T/tr" '
        BEGIN { n = 0; cont = 0 }
        cont { print > (D "." n ".cmd"); cont = /\\$/; next }
        /^\$ / { n++; c = substr($0, 3); print c > (D "." n ".cmd"); printf "" > (D "." n ".exp")
                 print NR > (D "." n ".line"); cont = /\\$/; next }
        n > 0 { print > (D "." n ".exp") }
        END { print n > (D ".count") }' "$3"
    cnt=$(cat "$T/tr.count")
    if [ "$cnt" -eq 0 ]; then fail "$1:$2: transcript without a \"\$ command\" line"; return; fi
    i=1
    while [ "$i" -le "$cnt" ]; do
        l0=$(($2 + $(cat "$T/tr.$i.line")))
        run_in "$T/tr.$i.cmd" "$T/tr.$i.out"
        if [ "$rc" -ne "$(want_status "$4")" ]; then
            fail "$1:$l0: \$ $(head -n 1 "$T/tr.$i.cmd"): exit $rc, expected $(want_status "$4")"
            tail_of "$T/tr.$i.out"; rm -f "$T"/tr.*; return
        fi
        awk -f "$T/norm.awk" "$T/tr.$i.exp" >"$T/exp.n"
        awk -f "$T/norm.awk" "$T/tr.$i.out" >"$T/act.n"
        j=0; has "$4" json && j=1
        r=$(awk -v json=$j -v PF="$T/piece" -f "$T/match.awk" "$T/exp.n" "$T/act.n")
        at=${r% *}; aat=${r#* }
        if [ "$at" != 0 ]; then
            fail "$1:$((l0 + at)): \$ $(head -n 1 "$T/tr.$i.cmd") (the transcript at $1:$2): the doc shows what the program no longer prints"
            if [ $j = 1 ]; then sed 's/^/    /' "$T/piece"; else differs "$1" "$l0"; fi
            rm -f "$T"/tr.*; return
        fi
        i=$((i + 1))
    done
    ok "$1:$2: transcript, $cnt command(s) and their output"
    rm -f "$T"/tr.*
}

for doc in $DOCS; do
    name=$(echo "$doc" | tr '/' '_')
    W=$T/w.$name
    S=$T/s.$name
    mkdir -p "$W" "$S/bin" "$S/build"
    ln -s "$LABS" "$S/bin/lstmsrc"
    ln -s "$LABS" "$S/build/lstmsrc"
    [ -z "$pyexe" ] || ln -s "$pyexe" "$S/bin/python3"
    cp -R "$REPO/data" "$S/data"
    awk -v W="$W" -v LIST="$W/list" -f "$T/blocks.awk" "$doc"
    [ -f "$W/list" ] || : >"$W/list"
    checked=0; marked=0; cut=
    last_out=; last_line=
    # one block per line; the fields read from a descriptor of its own, the commands from /dev/null
    while IFS='	' read -r k kind line opts <&3; do
        if [ "$kind" = error ]; then
            fail "$doc:$line: $opts"
            continue
        fi
        [ "$kind" = unmarked ] && continue
        [ "$kind" = no ] && { marked=$((marked + 1)); continue; }
        if [ -n "$cut" ]; then
            [ "$kind" = setup ] || skip "$doc:$line" "$cut"
            continue
        fi
        body=$W/$k.body
        if [ "$kind" != setup ] && has "$opts" slow && [ -n "$san" ]; then
            skip "$doc:$line" "a slow example, run only in the plain optimised build: this is $san"
            cut="after the slow example at $doc:$line, which $san skips"
            continue
        fi
        if [ "$kind" != setup ] && has "$opts" python && [ -n "$nopy" ]; then
            skip "$doc:$line" "the Python package: $nopy"
            cut="after the Python example at $doc:$line, which cannot run here"
            continue
        fi
        if [ "$kind" != setup ] && has "$opts" zlib && [ -n "$nozlib" ]; then
            skip "$doc:$line" "gzip input: $nozlib"
            cut="after the gzip example at $doc:$line, which a build without zlib skips"
            continue
        fi
        case "$kind" in
        setup)
            run_in "$W/$k.hide" "$W/$k.out"
            if [ "$rc" -ne 0 ]; then fail "$doc:$line: setup commands: exit $rc"; tail_of "$W/$k.out"; fi
            ;;
        run)
            checked=$((checked + 1))
            run_in "$body" "$W/$k.out"
            last_out=$W/$k.out; last_line=$line
            if [ "$rc" -eq "$(want_status "$opts")" ]; then
                ok "$doc:$line: $(lines "$body") line(s) of commands run"
            else
                fail "$doc:$line: the commands exit $rc, expected $(want_status "$opts")"
                tail_of "$W/$k.out"
            fi
            ;;
        output)
            checked=$((checked + 1))
            src=$last_out; from="what the commands at $doc:$last_line print"
            if [ -s "$W/$k.hide" ]; then
                run_in "$W/$k.hide" "$W/$k.out"
                src=$W/$k.out; from="what the hidden commands in its marker print"
                if [ "$rc" -ne "$(want_status "$opts")" ]; then
                    fail "$doc:$line: the hidden commands exit $rc, expected $(want_status "$opts")"
                    tail_of "$src"; continue
                fi
            elif [ -z "$src" ]; then
                fail "$doc:$line: an output block with no run block before it"; continue
            fi
            if has "$opts" avx2 && [ -n "$nums" ]; then skip "$doc:$line" "$nums"; continue; fi
            compare "$doc" "$line" "$body" "$src" "$opts" "output, $from"
            ;;
        transcript)
            checked=$((checked + 1))
            if has "$opts" avx2 && [ -n "$nums" ]; then skip "$doc:$line" "$nums"; continue; fi
            transcript "$doc" "$line" "$body" "$opts"
            ;;
        esac
    done 3<"$W/list"
    echo "  $doc: $checked blocks checked, $marked marked as not checked"
done

echo "cli_docs: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
