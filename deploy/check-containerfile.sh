#!/usr/bin/env bash
# Checks that deploy/Containerfile copies every source folder relbot's build reads: each
# top-level folder named by an #include in the folders it copies (and CMakeLists.txt's own
# add_subdirectory/file lists are under those). A folder added to the code but not to the image
# fails here instead of in `podman build`. Run by ctest; exits 1 naming what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
containerfile=deploy/Containerfile
copied=$(sed -n 's/^COPY \([^ ]*\) .*/\1/p' "$containerfile" | grep -v -- '--from' || true)
missing=()
# The folders reachable from what is copied, followed until nothing new is included.
todo=($copied)
seen=" "
while ((${#todo[@]})); do
    dir=${todo[0]}
    todo=("${todo[@]:1}")
    [[ $seen == *" $dir "* ]] && continue
    seen+="$dir "
    [[ -d $dir ]] || continue
    for inc in $(grep -rhoE '#include "[a-z_]+/' "$dir" | sed 's/#include "//; s/\/$//' | sort -u); do
        # "support/…" is tests/support, included with tests/ on the include path.
        [[ $inc == support ]] && inc=tests/support
        if ! grep -qx "$inc" <<<"$copied"; then
            missing+=("$inc (included from $dir)")
        fi
        todo+=("$inc")
    done
done
if ((${#missing[@]})); then
    printf 'deploy/Containerfile does not COPY: %s\n' "${missing[@]}" | sort -u >&2
    exit 1
fi
echo "deploy/Containerfile copies every folder the build includes: $(echo $copied)"
