#!/bin/bash
# check-layout.sh: user/ is cut by stage of the data path, and a stage only
# includes the stages before it (README "How it works"). Prints each include
# that goes the other way, and fails if there is one or a file sits outside a
# known stage.
cd "$(dirname "$0")/.." || exit 1
STAGES=(common target bpf model export ctl daemon cli)
bad=0
for f in user/*; do
	[ -d "$f" ] || { echo "check-layout: $f: not in a stage folder"; bad=1; }
done
for ((i = 0; i < ${#STAGES[@]}; i++)); do
	st=${STAGES[$i]}
	[ -d "user/$st" ] || { echo "check-layout: user/$st missing"; bad=1; continue; }
	allowed=" ${STAGES[*]:0:$((i + 1))} "
	while IFS=: read -r file line inc; do
		dep=${inc#*\"}; dep=${dep%%/*}
		case "$allowed" in *" $dep "*) ;; *)
			echo "check-layout: $file:$line: $st includes $dep (a later stage)"; bad=1 ;;
		esac
	done < <(grep -Hn '#include "[a-z_]*/' "user/$st"/*.[ch])
done
for d in user/*/; do
	d=${d#user/}; d=${d%/}
	[[ " ${STAGES[*]} " == *" $d "* ]] || { echo "check-layout: user/$d is not a stage"; bad=1; }
done
exit $bad
