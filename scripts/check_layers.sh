#!/bin/sh
# scripts/check_layers.sh [ROOT] — checks that the includes of ROOT/src run one way along the
# layers of ROOT/scripts/layers.txt: a file of src/LAYER/ includes "lstmsrc.h", system headers
# and "L/NAME.h" for L its own layer or one listed before it, where NAME is a header of L; the
# tool (src/cli/) includes any layer. Also: every source file lies in a listed layer folder or
# src/cli/. Prints one line per violation ("FILE:LINE: ...") and exits 1 if there is any.
ROOT=${1:-.}
awk -v root="$ROOT" '
BEGIN {
    while ((getline line < (root "/scripts/layers.txt")) > 0) {
        if (line ~ /^#/ || line !~ /[a-z]/) continue
        n = split(line, w, /[ \t]+/)
        rank[w[1]] = ++nl
        for (i = 2; i <= n; i++) if (w[i] != "") home[w[i]] = w[1]
    }
    rank["cli"] = nl + 1
    bad = 0
}
FNR == 1 {
    f = FILENAME; sub("^" root "/", "", f)
    split(f, part, "/")
    own = part[2]
    if (!(own in rank) || part[4] != "") {
        printf "%s: not in a layer folder of scripts/layers.txt (nor src/cli/)\n", f; bad = 1
    } else if (own != "cli") {
        name = part[3]; sub(/\.[ch]$/, "", name)
        if (home[name] != own) {
            printf "%s: scripts/layers.txt puts %s in %s\n", f, name, home[name] == "" ? "no layer" : home[name]; bad = 1
        }
    }
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
    if (inc == "lstmsrc.h") next
    if (own == "cli" && inc !~ /\//) next   # the tool'"'"'s own headers (src/cli/)
    k = split(inc, p, "/")
    if (k != 2 || !(p[1] in rank) || p[1] == "cli" && own != "cli") {
        printf "%s:%d: include \"%s\": expected \"LAYER/NAME.h\" of a library layer\n", f, FNR, inc; bad = 1; next
    }
    nm = p[2]; sub(/\.h$/, "", nm)
    if (home[nm] != p[1]) {
        printf "%s:%d: include \"%s\": %s.h is not a header of %s\n", f, FNR, inc, nm, p[1]; bad = 1; next
    }
    if (rank[p[1]] > rank[own]) {
        printf "%s:%d: include \"%s\": layer %s reaches up into %s\n", f, FNR, inc, own, p[1]; bad = 1
    }
}
END { exit bad }
' $(find "$ROOT/src" -name '*.[ch]' | sort)
