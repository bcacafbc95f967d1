#!/bin/sh
# The library's layers (scripts/layers.txt) run one way: scripts/check_layers.sh passes on the
# tree, and fails, naming the place, on copies with an include that reaches up a layer, a bare
# include, a header named in the wrong layer, and a source file outside the layer folders.
. tests/lib_cli.sh "$@"

check "the includes of src/ follow scripts/layers.txt" sh scripts/check_layers.sh .
check "every layer folder holds a file" sh -c '
    for l in $(sed -n "s/^\([a-z][a-z]*\) .*/\1/p" scripts/layers.txt); do
        ls src/$l/*.c >/dev/null 2>&1 || { echo "src/$l: empty"; exit 1; }; done'

copy() { rm -rf "$T/tree"; mkdir -p "$T/tree"; cp -r src scripts "$T/tree/"; }
# a violation must make the check fail and name FILE:LINE
refuses() { # NAME EXPECTED-TEXT
    sh scripts/check_layers.sh "$T/tree" >"$T/out" 2>&1 && { echo "passed"; return 1; }
    grep -q "$1" "$T/out" || { cat "$T/out"; return 1; }
}
copy
printf '#include "train/train.h"\n' >>"$T/tree/src/nn/model.c"
echo '/* x */' >"$T/tree/src/train/train.h"
check "an include reaching up a layer fails" refuses 'src/nn/model.c:[0-9]*: include "train/train.h": layer nn reaches up into train'
copy
printf '#include "model.h"\n' >>"$T/tree/src/infer/predict.c"
check "a bare include fails" refuses 'src/infer/predict.c:[0-9]*: include "model.h": expected "LAYER/NAME.h"'
copy
printf '#include "data/model.h"\n' >>"$T/tree/src/infer/stream.c"
check "a header of another layer than named fails" refuses 'model.h is not a header of data'
copy
echo 'int x;' >"$T/tree/src/loose.c"
check "a source file outside the layer folders fails" refuses 'src/loose.c: not in a layer folder'
copy
echo 'int y;' >"$T/tree/src/data/extra.c"
check "a file scripts/layers.txt does not place fails" refuses 'src/data/extra.c: scripts/layers.txt puts extra in no layer'
copy
printf '#include "cli/cli.h"\n' >>"$T/tree/src/base/common.c"
check "the library including the tool fails" refuses 'src/base/common.c:[0-9]*: include "cli/cli.h"'

echo "cli_layers: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
