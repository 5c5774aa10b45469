#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks user/'s layering: a file includes only its own folder and the folders below it.
set -eu
cd "$(dirname "$0")/.."
LAYERS="lib observe history notify alerts daemon cli"

rank() {
	i=0
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

bad=0
for f in user/*/*.[ch]; do
	own=$(basename "$(dirname "$f")")
	own_rank=$(rank "$own")
	if [ "$own_rank" -lt 0 ]; then
		echo "$f: folder '$own' is not a layer ($LAYERS)"
		bad=1
		continue
	fi
	for inc in $(sed -n 's/^#include "\([a-z_]*\)\/[^"]*"/\1/p' "$f"); do
		r=$(rank "$inc")
		if [ "$r" -lt 0 ] || [ "$r" -gt "$own_rank" ]; then
			echo "$f includes from $inc/, above its own layer $own/"
			bad=1
		fi
	done
	if grep -q '^#include "[^/"]*\.h"' "$f" &&
	   grep '^#include "[^/"]*\.h"' "$f" | grep -vq 'workerwatch\.h\|workerwatch\.skel\.h\|syscall_names\.h'; then
		echo "$f: an include without its folder"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "layers ok: $LAYERS"
exit $bad
