# compare_pred.awk — compares two prediction files line by line (CSV as `lstmsrc predict`
# writes it): the same number of lines and fields; fields with a decimal point (probabilities)
# within `tol`, every other field (decisions, class names, empty fields, header names) equal.
#   awk -v tol=1e-5 -f tests/compare_pred.awk EXPECTED ACTUAL
# Prints the first few differences and "compare: N lines, max |diff| X, N mismatches"; exits 1
# on any mismatch.
BEGIN {
    if (tol == "") tol = 0
    bad = 0; maxd = 0; n = 0
    f2 = ARGV[2]; ARGV[2] = ""     # read with getline, not as main input
}
{
    n++
    if ((getline other < f2) <= 0) {
        print "compare: " f2 " ends at line " n - 1 ", " ARGV[1] " goes on"
        bad++
        exit
    }
    na = split($0, a, ","); nb = split(other, b, ",")
    if (na != nb) {
        if (bad++ < 5) print "compare: line " n ": " na " fields vs " nb
        next
    }
    for (i = 1; i <= na; i++) {
        if (a[i] ~ /^-?[0-9]+\.[0-9]+$/ && b[i] ~ /^-?[0-9]+\.[0-9]+$/) {
            d = a[i] - b[i]; if (d < 0) d = -d
            if (d > maxd) maxd = d
            if (d > tol && bad++ < 5) print "compare: line " n " field " i ": " a[i] " vs " b[i]
        } else if (a[i] != b[i]) {
            if (bad++ < 5) print "compare: line " n " field " i ": \"" a[i] "\" vs \"" b[i] "\""
        }
    }
}
END {
    if ((getline other < f2) > 0) { print "compare: " f2 " has more lines"; bad++ }
    printf "compare: %d lines, max |diff| %g, %d mismatches\n", n, maxd, bad
    exit bad ? 1 : 0
}
