#!/bin/sh
# The README's first command ends here: show nicely at work on this machine.
set -eu
b=${1:-build}
echo "== nicely top --once: the machine as nicely sees it"
"$b/nicely" top --once
