#!/usr/bin/env bash
# Fails early, with one clear list, when the tests, the demo, the benchmarks or the examples call
# an external command that no install step provides. `make test` runs it first (after `make deps`).
#
# What it checks:
#   1. Every word in a command position of tests/*.sh, tests/lab/*.sh, scripts/*.sh, examples/*.sh
#      and the Makefile (heredocs and comments skipped) that names a program on PATH must be listed
#      in the table below. A new tool in a test therefore fails here until someone says which
#      package installs it.
#   2. Every listed command must be on PATH (a missing one is named with its package).
#   3. Every listed package must be installed by scripts/deps.sh, or be Essential in Debian (on
#      every machine), or be a stated prerequisite (Swift, make, git: see README).
#   4. Every Python module imported by the tests' Python (tests/*.py, scripts/*.py, `python3 -c`
#      and heredocs in the shell scripts) must import with python3.
# Usage: scripts/check-test-commands.sh [--list]   (--list prints the table's commands and exits)
# Run it with root's PATH (ip, nft, sshd are in /usr/sbin), as `make test` is run.
# CHECK_COMMANDS_SCAN / CHECK_COMMANDS_PY_SCAN replace the lists of files scanned (tests/cli.sh
# uses them to prove that an unlisted command fails the check).
# Exit: 0 all provided; 69 something is missing (the list says what and how to get it);
#       70 the table names a package that no install step installs (a defect of this repository).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 70
SCAN=${CHECK_COMMANDS_SCAN:-"tests/*.sh tests/lab/*.sh scripts/*.sh examples/*.sh Makefile"}
PY_SCAN=${CHECK_COMMANDS_PY_SCAN:-"tests/*.py scripts/*.py"}

# COMMAND PACKAGE — PACKAGE is a Debian package, "prerequisite" (Swift toolchain, make, git: what a
# fresh clone needs before `make`), or "-" for a word that looks like a command in the scan but is
# not called (prose in a message, a target name, a stand-in the test makes itself, a Python
# builtin such as zip in an inline script).
TABLE='
awk mawk
basename coreutils
bash bash
cat coreutils
chmod coreutils
cmp diffutils
comm coreutils
cp coreutils
cut coreutils
date coreutils
getconf libc-bin
dbus-daemon dbus
dd coreutils
df coreutils
diff diffutils
dirname coreutils
dpkg-query dpkg
echo coreutils
env coreutils
find findutils
grep grep
head coreutils
hostname hostname
hyperfine hyperfine
id coreutils
install coreutils
ip iproute2
ip6tables iptables
iptables iptables
kill procps
ln coreutils
ls coreutils
mkdir coreutils
mktemp coreutils
mount mount
mv coreutils
nohup coreutils
nft nftables
od coreutils
perl perl-base
ping iputils-ping
printf coreutils
ps procps
pwd coreutils
python3 python3
readlink coreutils
rm coreutils
rmdir coreutils
scp openssh-client
sed sed
seq coreutils
setsid util-linux
setpriv util-linux
useradd passwd
userdel passwd
sh dash
sha256sum coreutils
sleep coreutils
socat socat
tmux tmux
sort coreutils
ss iproute2
ssh openssh-client
ssh-keygen openssh-client
stat coreutils
systemd-analyze systemd
sysctl procps
tail coreutils
tcpdump tcpdump
tee coreutils
test coreutils
timeout coreutils
touch coreutils
tr coreutils
true coreutils
truncate coreutils
uniq coreutils
uptime procps
wc coreutils
whoami coreutils
avahi-daemon avahi-daemon
avahi-browse avahi-utils
avahi-publish avahi-utils
faketime faketime
sshd openssh-server
apt-get prerequisite
make prerequisite
git prerequisite
swift prerequisite
swiftc prerequisite
swift-format prerequisite
apt -
file -
idle -
last -
man -
sum -
zip -
notify-send -
protoc -
syncthing syncthing
'

if [ "${1:-}" = --list ]; then echo "$TABLE" | awk 'NF && $2 != "-" { print $1 }'; exit 0; fi

declare -A PKG
while read -r c p; do [ -n "$c" ] && PKG[$c]=$p; done <<<"$TABLE"

# Words in command position: split lines at | && || ; $( ` ( ) { } ! and shell keywords, drop
# leading assignments and wrappers (exec, env, timeout N, setsid, sudo, command -v, lab exec HOST).
command_words() {
  local f
  for f in $SCAN; do
    [ -f "$f" ] || continue
    awk '
      !inhd && /<<-?'"'"'?[A-Z]+'"'"'?[ ]*$/ {
        match($0, /<<-?'"'"'?[A-Z]+/); tag = substr($0, RSTART, RLENGTH); gsub(/[<'"'"'-]/, "", tag)
        print; inhd = 1; next }
      inhd { if ($0 == tag) inhd = 0; next }
      /^[ \t]*#/ { next }
      { print }' "$f"
  done | sed -E 's/(\|\||&&|[|;`(){}!]|\$\(|-c ["'"'"']| then | do | else |^\t)/\n/g' \
    | sed -E 's/^[[:space:]]+//; s/^([A-Za-z_][A-Za-z0-9_]*=[^ ]* +)+//' \
    | sed -E 's/^(exec|env|timeout [0-9a-z.]+|setsid|nohup|sudo|command -v|"\$LAB" exec h[0-9]+) +//' \
    | sed -E 's/^([A-Za-z_][A-Za-z0-9_]*=[^ ]* +)+//; s/^(env|timeout [0-9a-z."$]+) +//' \
    | grep -oE '^[a-z][a-z0-9._+-]*' | sort -u
}

# Python modules: import lines in Python files, in heredocs and in `python3 -c` strings.
python_modules() {
  local f
  { for f in $PY_SCAN $SCAN; do [ -f "$f" ] && cat "$f"; done; } \
    | grep -oE "(^|[\"';] *)(import [a-z_][a-z0-9_]*(, *[a-z_][a-z0-9_]*)*|from [a-z_][a-z0-9_.]* import)" \
    | sed -E "s/^[\"'; ]*//; s/^import //; s/^from ([a-z0-9_.]+) import/\1/; s/,/ /g" \
    | tr ' ' '\n' | sed -E 's/\..*//' | grep -E '^[a-z_][a-z0-9_]*$' | sort -u
}

builtins=" $(compgen -b | tr '\n' ' ') $(compgen -k | tr '\n' ' ') "
installed_by_deps=" $(sed -n 's/^PKGS="\(.*\)"$/\1/p' scripts/deps.sh) "
unlisted=() missing=() unprovided=() badmods=()

for w in $(command_words); do
  [ -n "${PKG[$w]+x}" ] && continue
  case $builtins in *" $w "*) [ "$w" = kill ] || [ "$w" = test ] || continue ;; esac
  if p=$(type -P "$w"); then unlisted+=("$w ($p)"); fi
done

for c in "${!PKG[@]}"; do
  p=${PKG[$c]}
  [ "$p" = - ] && continue
  if [ "$p" != prerequisite ] && [[ $installed_by_deps != *" $p "* ]] \
     && [ "$(dpkg-query -W -f='${Essential}' "$p" 2>/dev/null)" != yes ]; then
    unprovided+=("$c (package $p)")
  fi
  type -P "$c" >/dev/null || missing+=("$c (package $p)")
done

# not stdlib: noise (noiseprotocol) lives in .venv-test, made by scripts/test-setup.sh; "the" is
# prose ("import the exported history")
PY_SKIP=" noise the "
PY=$(type -P python3 || true)
if [ -n "$PY" ]; then
  for m in $(python_modules); do
    [[ $PY_SKIP == *" $m "* ]] && continue
    # the project's own modules (scripts/bench_arrivals.py, …) import from beside their users
    PYTHONPATH="$ROOT/scripts:$ROOT/tests" "$PY" -c "import $m" 2>/dev/null || badmods+=("$m")
  done
fi

rc=0
if [ ${#unlisted[@]} -gt 0 ]; then
  echo "check-test-commands: the tests call commands that no install step is known to provide:" >&2
  printf '  %s\n' "${unlisted[@]}" >&2
  echo "  add each to the table in scripts/check-test-commands.sh with its Debian package, and the package to scripts/deps.sh" >&2
  rc=69
fi
if [ ${#unprovided[@]} -gt 0 ]; then
  echo "check-test-commands: these packages are installed by no step (add them to PKGS in scripts/deps.sh):" >&2
  printf '  %s\n' "${unprovided[@]}" >&2
  rc=70
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "check-test-commands: commands the tests call are not installed:" >&2
  printf '  %s\n' "${missing[@]}" | sort >&2
  echo "  run: sudo make deps   (Swift, make and git are prerequisites: see README)" >&2
  [ $rc = 0 ] && rc=69
fi
if [ ${#badmods[@]} -gt 0 ]; then
  echo "check-test-commands: Python modules the tests import do not import with $PY: ${badmods[*]}" >&2
  echo "  run: sudo make deps" >&2
  [ $rc = 0 ] && rc=69
fi
[ $rc = 0 ] && echo "check-test-commands: all ${#PKG[@]} listed commands and the Python modules are present"
exit $rc
