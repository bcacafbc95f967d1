#!/bin/sh
# scripts/manpage.sh CLI VERSION — writes lstmsrc(1) to stdout, made from the program's own
# help texts (`lstmsrc --help` and `lstmsrc COMMAND --help` for every command), so the manual
# page and the program cannot disagree. `make` builds it as BUILD/lstmsrc.1; `make install`
# puts it in MANDIR/man1. tests/cli_library.sh checks every command and option is in it.
set -eu
CLI=$1
VERSION=$2
# roff: backslashes doubled, a leading dot or quote protected, hyphens of options kept as
# hyphens (\-) so they can be searched and copied
esc() { sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/-/\\-/g'; }
commands=$("$CLI" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}')
cat <<HEAD
.TH LSTMSRC 1 "" "lstmsrc $VERSION" "User Commands"
.SH NAME
lstmsrc \\- learn which sources are active from one accumulated meter reading
.SH SYNOPSIS
.B lstmsrc
.I COMMAND
.RI [ ARGS ]
.br
.B lstmsrc
.BR \\-\\-help " | " \\-\\-version
.SH DESCRIPTION
HEAD
"$CLI" --help | sed -n '3,/^commands:/p' | sed '$d' | esc
echo '.SH COMMANDS'
echo '.nf'
"$CLI" --help | awk '/^commands:/{on=1; next} on && /^$/{exit} on' | esc
echo '.fi'
for c in $commands; do
    echo ".SS lstmsrc $c"
    echo '.nf'
    "$CLI" "$c" --help | esc
    echo '.fi'
done
cat <<'TAIL'
.SH EXIT STATUS
.TP
.B 0
success
.TP
.B 1
the data, a file or the model was refused (the message names the file, line and column), or
an output could not be written
.TP
.B 2
a usage error: an unknown command or option, an impossible value
.TP
.B 130
interrupted (SIGINT or SIGTERM); what was done so far is saved and the message says where
.SH ENVIRONMENT
.TP
.B LSTMSRC_ISA
.BR avx512 ", " avx2 " or " portable :
force the kernels (tests, benchmarks); one this CPU lacks is refused with exit status 2
.TP
.B TMPDIR
where a model goes when it cannot be saved at its own path
.SH SEE ALSO
The documentation in the source tree: README.md, docs/COMMANDS.md, docs/RECORDINGS.md,
docs/USING.md (the C library, liblstmsrc, and its header lstmsrc.h), docs/FORMAT.md.
TAIL
