"""Counting the files a process creates in a folder, with Linux inotify (through ctypes: no
package needed). Watch before the run, read after it:

    with FileEvents([folder, subfolder]) as events:
        subprocess.run(...)
    events.created   # {folder: [names of files and folders created there, in order]}
    events.renamed   # {folder: [names that files were renamed to there]}
    events.deleted

The kernel queues at most /proc/sys/fs/inotify/max_queued_events events (16384 by default);
`overflowed` says when it lost some. Folders created during the run are not watched: create
the ones to count inside beforehand."""
import ctypes
import os
import struct

IN_CREATE, IN_DELETE, IN_MOVED_TO, IN_Q_OVERFLOW, IN_ISDIR = 0x100, 0x200, 0x80, 0x4000, 0x40000000
IN_NONBLOCK = 0o4000
_HEADER = struct.Struct("iIII")


class FileEvents:
    def __init__(self, folders):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.folders = {}
        for folder in folders:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_CREATE | IN_DELETE | IN_MOVED_TO)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")
            self.folders[wd] = str(folder)
        self.created = {str(f): [] for f in folders}
        self.renamed = {str(f): [] for f in folders}
        self.deleted = {str(f): [] for f in folders}
        self.overflowed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.read()
        os.close(self.fd)
        return False

    def read(self):
        while True:
            try:
                data = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return
            at = 0
            while at < len(data):
                wd, mask, _, length = _HEADER.unpack_from(data, at)
                name = data[at + _HEADER.size:at + _HEADER.size + length].rstrip(b"\0").decode()
                at += _HEADER.size + length
                if mask & IN_Q_OVERFLOW:
                    self.overflowed = True
                elif wd in self.folders:
                    kind = "/" if mask & IN_ISDIR else ""
                    target = (self.deleted if mask & IN_DELETE else
                              self.renamed if mask & IN_MOVED_TO else self.created)
                    target[self.folders[wd]].append(name + kind)
