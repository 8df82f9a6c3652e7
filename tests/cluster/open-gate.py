#!/usr/bin/env python3
"""An open gate for one file, for tests/cluster/run (Linux, root): holds the first process that opens FILE inside its
open() until the test lets it through, so the test can act at a known point of a job without racing it.

    open-gate.py FILE STATE_DIR

Uses a fanotify permission mark (FAN_OPEN_PERM) on FILE. Writes STATE_DIR/ready once the mark is in place, and
STATE_DIR/held (the opener's pid) when an open of FILE is being held. Every open of FILE is held until STATE_DIR/open
exists; then the held opens are allowed and the gate exits (and later opens of FILE are not watched). If the gate dies,
the kernel allows the held opens. A held process can still be killed with SIGKILL (its open never completes).
"""
import ctypes
import os
import select
import struct
import sys
import time

FAN_CLASS_CONTENT = 0x04
FAN_CLOEXEC = 0x01
FAN_MARK_ADD = 0x01
FAN_OPEN_PERM = 0x00010000
FAN_ALLOW = 0x01
AT_FDCWD = -100
METADATA = struct.Struct("=IBBHQii")  # struct fanotify_event_metadata: event_len, vers, reserved, metadata_len, mask, fd, pid


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    if len(sys.argv) != 3:
        print("usage: open-gate.py FILE STATE_DIR", file=sys.stderr)
        return 2
    target, state = sys.argv[1], sys.argv[2]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
    fan = libc.fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, os.O_RDONLY)
    if fan < 0:
        print(f"error: fanotify_init: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 1
    if libc.fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, os.fsencode(target)) != 0:
        print(f"error: fanotify_mark {target}: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 1
    write_atomically(os.path.join(state, "ready"), "")
    release = os.path.join(state, "open")
    held = []  # the fds of the held events
    while not os.path.exists(release):
        readable, _, _ = select.select([fan], [], [], 0.1)
        if not readable:
            continue
        buf = os.read(fan, 4096)
        offset = 0
        while offset + METADATA.size <= len(buf):
            event_len, _, _, _, mask, fd, pid = METADATA.unpack_from(buf, offset)
            offset += event_len
            if fd < 0:
                continue
            if not held:
                write_atomically(os.path.join(state, "held"), f"{pid}\n")
            held.append(fd)
    for fd in held:
        os.write(fan, struct.pack("=iI", fd, FAN_ALLOW))
        os.close(fd)
    os.close(fan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
