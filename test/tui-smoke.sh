#!/usr/bin/env bash
# Terminal UI smoke test: runs `heatmap replay --tui` in a detached tmux session on a recording,
# reads the screen back with capture-pane as a person would, and checks the header, the grid,
# the keys, resizing to 80x24 and 200x60, the end of the replay and quitting cleanly. Also checks
# that without a terminal --tui says so and the replay runs without it.
#
#   test/tui-smoke.sh [RECORDING]     (default fixtures/open-3m; simulated when missing)
#
# Needs tmux and a built dist/ (npm run build). Uses its own tmux server socket, so it never
# touches the user's tmux sessions.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tmux >/dev/null || { echo "tui-smoke: tmux is not installed (Debian: apt-get install tmux)" >&2; exit 1; }
[ -f dist/cli/main.js ] || npm run build --silent

WORK=$(mktemp -d)
SOCK="heatmap-tui-smoke-$$"
T() { tmux -L "$SOCK" "$@"; }
cleanup() {
  T kill-server >/dev/null 2>&1 || true
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
  rm -rf "$WORK"
}
trap cleanup EXIT

REC=${1:-fixtures/open-3m}
if [ ! -f "$REC/manifest.json" ]; then
  echo "tui-smoke: no recording at $REC; simulating 3 minutes of an open market"
  node bin/heatmap.js sim --out "$WORK/rec" --duration 3m --seed 1 --no-progress >/dev/null
  REC="$WORK/rec"
fi

screen() { T capture-pane -p -t smoke; }
fail() {
  echo "tui-smoke: FAIL: $*" >&2
  echo "---- screen ----" >&2
  screen >&2 || true
  echo "---- stderr of heatmap ----" >&2
  cat "$WORK/err" >&2 2>/dev/null || true
  exit 1
}
# wait_for DESCRIPTION GREP_ARGS... : polls the screen (up to 20 s) until grep matches.
wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 200); do
    if screen | grep -q "$@"; then return 0; fi
    sleep 0.1
  done
  fail "timed out waiting for $what"
}
# wait_until DESCRIPTION SHELL_TEST : polls (up to 20 s) until the test, run on the screen in $S, holds.
wait_until() {
  local what=$1 test=$2
  for _ in $(seq 1 200); do
    S=$(screen)
    if eval "$test"; then return 0; fi
    sleep 0.1
  done
  fail "timed out waiting for $what"
}
key() { T send-keys -t smoke "$@"; }
ok() { echo "tui-smoke: ok - $*"; }

# A clean environment: no CI variables (Ink would draw only the final frame, chalk no colours).
RUN="env -i PATH='$PATH' HOME='$HOME' TERM=xterm-256color LANG=C.UTF-8 node bin/heatmap.js replay '$REC' --tui --speed 5 --out '$WORK/out.ndjson' 2>'$WORK/err'; echo \$? >'$WORK/exit'; sleep 600"
# No status line: the pane is the whole window, so 80x24 means an 80x24 screen.
echo 'set -g status off' >"$WORK/tmux.conf"
T -u -f "$WORK/tmux.conf" new-session -d -s smoke -x 120 -y 40 "$RUN"

# Header and grid.
SERIES='[A-Z]+ [0-9]{4}-[0-9]{2}-[0-9]{2}'
wait_for "the header" -E "I:[A-Z]+ .*single.*vertical.*fly .*$SERIES .*v[0-9]+ .*[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} ET"
wait_for "speed and rates" -E 'speed 5x +in [0-9.,]+/s +[0-9.,]+ versions/s +lag [0-9]+ ms +spot [0-9]+\.[0-9]{2}'
wait_for "the strike line with the spot marker" -E '^K +.*[0-9]{4}│ *[0-9]{4}│'
wait_until "call and put rows per expiration" '[ $(grep -cE "^[CP] [0-9]{2}-[0-9]{2} +-?[0-9]" <<<"$S") -ge 6 ]'
wait_for "the key bindings" 'q quit'
ok "header, single grid (calls/puts x expirations) and spot marker at 120x40"

# Keys: strategy, expiration, shown figure, pause.
key Right
wait_for "vertical: width rows" -E '^C +5 +-?[0-9]'
wait_for "vertical: strike line" -E '^w\\K'
key Tab
wait_for "fly selected" -E 'fly.*v[0-9]+'
wait_until "fly rows for both rights" '[ $(grep -cE "^[CP] +[0-9]+ +[-0-9·]" <<<"$S") -ge 10 ]'
ok "strategy switch (→, tab)"
FIRST=$(screen | grep -oE "$SERIES" | head -1)
key Down
wait_until "another expiration" '[ "$(grep -oE "$SERIES" <<<"$S" | head -1)" != "$FIRST" ]'
key Up
wait_until "back to the first expiration" '[ "$(grep -oE "$SERIES" <<<"$S" | head -1)" = "$FIRST" ]'
ok "expiration switch (↓, ↑)"
key v
wait_for "values shown" 'showing value'
ok "v toggles the shown figure"
key Space
wait_for "paused" -E '^paused'
sleep 0.5 # the input already past the pacer when space was pressed may still publish; let it land
V1=$(screen | grep -oE ' v[0-9]+ ' | head -1)
sleep 1
V2=$(screen | grep -oE ' v[0-9]+ ' | head -1)
[ "$V1" = "$V2" ] || fail "the version moved while paused ($V1 → $V2)"
key Space
wait_for "resumed" -E '^speed 5x'
ok "space pauses (the version stands still) and resumes"

# Re-layout on resize.
T resize-window -t smoke -x 80 -y 24
wait_until "an 80x24 layout" '[ $(grep -cE "^[CP] +[0-9]+ " <<<"$S") -ge 8 ] && grep -qE "^w\\\\K ‹ .*›$" <<<"$S" && ! grep -q "…" <<<"$S"'
[ "$(screen | grep -cE '^[CP] +[0-9]+ ')" -le 16 ] || fail "more rows than fit in 24 lines"
ok "80x24: strikes cut to the width around spot (‹ ›), rows fit"
echo "---- 80x24 ----"; screen | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
T resize-window -t smoke -x 200 -y 60
wait_until "a 200x60 layout" 'grep -qE "^w\\\\K +[0-9]{4} .* [0-9]{4} *$" <<<"$S" && ! grep -qE "[‹›]" <<<"$S"'
wait_for "the long key help" '←/→ tab strategy'
ok "200x60: every strike, long key help"
echo "---- 200x60 ----"; screen | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'

# Speed up to max; the replay ends and the final heatmap stays.
for _ in $(seq 1 12); do key +; sleep 0.05; done
wait_for "speed max or the end" -E 'speed max|replay finished'
wait_for "the end of the replay" 'replay finished'
[ ! -f "$WORK/exit" ] || fail "heatmap exited at the end of the replay instead of waiting for q"
wait_for "the final heatmap" -E '^C +5 +-?[0-9]'
ok "+ speeds up to max; at the end the final heatmap stays with 'replay finished'"

# Quit: the process ends, the terminal is left clean, the NDJSON and the report are complete.
key q
for _ in $(seq 1 100); do [ -f "$WORK/exit" ] && break; sleep 0.1; done
[ -f "$WORK/exit" ] || fail "heatmap did not exit after q"
[ "$(cat "$WORK/exit")" = 0 ] || fail "exit code $(cat "$WORK/exit") after q"
sleep 0.2
! screen | grep -qE 'w\\K|replay finished|q quit' || fail "the heatmap is still on the screen after quitting"
tail -n 1 "$WORK/out.ndjson" | grep -q '"type":"summary"' || fail "the NDJSON has no summary line"
grep -q 'replayed' "$WORK/err" || fail "no replay report on stderr"
ok "q quits with exit 0, leaves the terminal clean, NDJSON complete"

# Without a terminal: a notice, and the replay runs at full speed without the TUI.
env -u CI node bin/heatmap.js replay "$REC" --tui --no-progress >"$WORK/plain.ndjson" 2>"$WORK/plain.err" </dev/null
grep -q -- '--tui needs a terminal' "$WORK/plain.err" || fail "no notice without a terminal"
tail -n 1 "$WORK/plain.ndjson" | grep -q '"type":"summary"' || fail "no NDJSON without a terminal"
cmp -s <(grep -v '"type":"summary"' "$WORK/plain.ndjson") <(grep -v '"type":"summary"' "$WORK/out.ndjson") || fail "the versions differ from the TUI run's"
ok "without a TTY: notice on stderr, same versions as the TUI run"
echo "tui-smoke: all checks passed"
