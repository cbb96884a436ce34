#!/usr/bin/env bash
# tests/cli/outputs.sh BPLAB - how bplab writes the paths it is given
# (core/outfile.h):
#   - a character device (a private node of /dev/full's kind) stays a
#     device; its ENOSPC is one error line and exit 1;
#   - a FIFO stays a FIFO and its reader gets every metrics row once;
#   - "-" and /dev/stdout put the CSV on standard output and the log on
#     stderr; /dev/stdout redirected to a file keeps the shell's file;
#   - a symbolic link (also a dangling one) stays a link, its target gets
#     the new contents;
#   - writers of one path at once each finish, the file is complete, and
#     no temporary is left; a dead writer's temporary is removed by the
#     next write, a live (locked) one is not.
set -u
bp=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
run=(--data spirals --samples 200 --layers 8 --batch 50 --epochs 3 --quiet)
fail() { echo "FAIL: $*"; exit 1; }
cd "$t"

# a character device: an ENOSPC device of our own (mknod needs root;
# never risk the real /dev/full)
if mknod full c 1 7 2> /dev/null; then
    rc=0
    "$bp" train "${run[@]}" --metrics full > out 2> err || rc=$?
    [ $rc -eq 1 ] || fail "device: exit $rc, expected 1"
    [ -c full ] || fail "device: the device node was replaced"
    [ "$(wc -l < err)" -eq 1 ] || fail "device: $(wc -l < err) lines on stderr"
    grep -q "^bplab: error: full: cannot write: No space left on device$" err ||
        fail "device: $(cat err)"
    echo "device: still a device, one error line, exit 1"
else
    echo "device: skipped (mknod not permitted)"
fi

# a FIFO: written in place, each row once
mkfifo fifo
cat fifo > from_fifo &
reader=$!
"$bp" train "${run[@]}" --metrics fifo > /dev/null || fail "FIFO: the run failed"
wait $reader
[ -p fifo ] || fail "FIFO: replaced by a regular file"
[ "$(wc -l < from_fifo)" -eq 4 ] || fail "FIFO: $(wc -l < from_fifo) lines, expected header + 3 rows"
"$bp" train "${run[@]}" --metrics ref.csv > /dev/null
cut -d, -f1-12 ref.csv > a; cut -d, -f1-12 from_fifo > b
cmp -s a b || fail "FIFO: rows differ from a file's"
echo "FIFO: still a FIFO, header + 3 rows"

# standard output
"$bp" train "${run[@]}" --metrics - > dash.csv 2> dash.err || fail "'-': the run failed"
cut -d, -f1-12 dash.csv > b
cmp -s a b || fail "'-': stdout is not the CSV: $(head -2 dash.csv)"
grep -q "^test accuracy" dash.err || fail "'-': the result line is not on stderr"
"$bp" train "${run[@]}" --metrics /dev/stdout > redirected.csv 2> /dev/null ||
    fail "/dev/stdout: the run failed"
cut -d, -f1-12 redirected.csv > b
cmp -s a b || fail "/dev/stdout: the shell's file does not hold the CSV"
echo "stdout: '-' and /dev/stdout give the CSV, the log on stderr"

# symbolic links: followed, the target replaced, the link kept
echo old > target.ckpt
ln -s target.ckpt link.ckpt
ln -s sub/new.ckpt dangling.ckpt
mkdir sub
"$bp" train "${run[@]}" --save link.ckpt > /dev/null || fail "link: the run failed"
"$bp" train "${run[@]}" --save dangling.ckpt > /dev/null || fail "dangling link: the run failed"
[ -L link.ckpt ] && [ -L dangling.ckpt ] || fail "link: replaced by a file"
[ "$(head -c 7 target.ckpt)" = BPLABCK ] || fail "link: the target kept its old contents"
cmp -s target.ckpt sub/new.ckpt || fail "dangling link: the target differs"
"$bp" eval --model link.ckpt > /dev/null || fail "link: the checkpoint does not load"
echo "links: kept, targets written"

# concurrent writers of one path
for trial in 1 2 3 4 5; do
    pids=()
    for w in 1 2 3; do
        "$bp" train "${run[@]}" --seed $w --save same.ckpt --metrics same.csv \
            > /dev/null 2> "w$w.err" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        wait "$p" || fail "concurrent trial $trial: a writer failed: $(cat w*.err)"
    done
    "$bp" eval --model same.ckpt > /dev/null || fail "concurrent trial $trial: checkpoint does not load"
    [ "$(wc -l < same.csv)" -eq 4 ] || fail "concurrent trial $trial: metrics incomplete"
done
ls | grep -q '\.tmp' && fail "concurrent: temporaries left: $(ls | grep '\.tmp')"
echo "concurrent writers: 5 trials x 3 writers, complete files, no temporary left"

# a dead writer's temporary goes at the next write; a live one stays
echo partial > same.ckpt.tmp.DeadAb
echo partial > same.ckpt.tmp.LiveCd
# the holder becomes `sleep` itself, the lock on its descriptor 9
(exec 9>> same.ckpt.tmp.LiveCd; flock 9; exec sleep 30) &
holder=$!
sleep 0.2
"$bp" train "${run[@]}" --save same.ckpt > /dev/null || fail "clean-up: the run failed"
[ -e same.ckpt.tmp.DeadAb ] && fail "clean-up: a dead writer's temporary was left"
[ -e same.ckpt.tmp.LiveCd ] || fail "clean-up: a live writer's temporary was removed"
kill $holder 2> /dev/null
wait $holder 2> /dev/null
echo "clean-up: dead temporary removed, live one kept"

# a directory is an error before training
mkdir dir.ckpt
rc=0
"$bp" train "${run[@]}" --save dir.ckpt > /dev/null 2> err || rc=$?
[ $rc -ne 0 ] && grep -q "^bplab: error: --save dir.ckpt: is a directory$" err ||
    fail "directory: exit $rc, $(cat err)"
echo "directory: one error line"
