"""What a resume sees as settled in a results file: the HDF5 file plus the records of its
journal (<file>.journal), decoded here from the byte format of docs/hdf5-layout.md,
independently of the C++ code, so tests can check the C++ side against it."""
import os
import struct
import zlib

import h5py
import numpy as np

FRAME_MAGIC = 0x4A57534D


class Buf:
    def __init__(self, data):
        self.data, self.at = data, 0

    def get(self, fmt):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def text(self):
        n = self.get("I")
        s = self.data[self.at:self.at + n].decode()
        self.at += n
        return s


def _frames(data):
    """(file_id, [(kind, payload, offset)]) of the journal bytes: every valid frame, in order."""
    assert data[:8] == b"MPSWJRN1", "journal header damaged"
    length, crc = struct.unpack_from("<II", data, 8)
    header = data[16:16 + length]
    assert len(header) == length and zlib.crc32(header) == crc, "journal header damaged"
    file_id = struct.unpack_from("<Q", header, 12)[0]
    frames = []
    at = 16 + length
    while len(data) - at >= 13:
        magic, kind, length, crc = struct.unpack_from("<IBII", data, at)
        payload = data[at + 13:at + 13 + length]
        if magic != FRAME_MAGIC or len(payload) < length or zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            break  # a torn tail: never settled
        frames.append((kind, payload, at))
        at += 13 + length
    return file_id, frames


def _skip_value(b, kind_of):
    if kind_of == 0:
        b.get("d")
    elif kind_of == 1:
        b.get("q")
    elif kind_of == 2:
        b.text()
    elif kind_of == 4:  # bool
        b.get("B")
    else:
        n = b.get("I")
        b.at += 8 * n


def _skip_results(b):
    """Skips n, then (name, type, value) per result; returns the types."""
    types = []
    for _ in range(b.get("I")):
        b.text()
        types.append(b.get("B"))
        _skip_value(b, types[-1])
    return types


def _statuses(payload, status):
    """A Records frame (version 1 journals): every field of every record."""
    b = Buf(payload)
    for _ in range(b.get("I")):
        task, st = b.get("QB")
        b.get("iii"), b.text(), b.get("dd"), b.get("i"), b.text()
        _skip_results(b)
        status[task] = st


def _row_statuses(payload, status):
    """A Rows frame: flags 1 new id (else the last + 1), 2 new status, attempts, worker,
    device, exit code, 4 new node, 8 an error, 16 results (with 32: only their values, the
    names and types of the frame's last record with results); start and wall always."""
    b = Buf(payload)
    task = st = None
    types = []
    for _ in range(b.get("I")):
        flags = b.get("B")
        task = b.get("Q") if flags & 1 else task + 1
        if flags & 2:
            st = b.get("Biiii")[0]
        if flags & 4:
            b.text()
        b.get("dd")
        if flags & 8:
            b.text()
        if flags & 16 and flags & 32:
            for kind_of in types:
                _skip_value(b, kind_of)
        elif flags & 16:
            types = _skip_results(b)
        assert st in (1, 2), f"task {task}: status {st}"
        status[task] = st


RECORDS_KINDS = (1, 3)  # Records (version 1 journals), Rows


def frame_statuses(kind, payload, status):
    """Sets status[task] for each record of a Records or Rows frame (nothing for a Commit)."""
    if kind == 1:
        _statuses(payload, status)
    elif kind == 3:
        _row_statuses(payload, status)


def read_journal(path, after_last_commit=False):
    """(file_id, {task id: status}) of every valid Records frame (only of those from the
    offset the last Commit frame names on, which the HDF5 file may not hold yet, with
    after_last_commit), or None without a journal."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        file_id, frames = _frames(f.read())
    if after_last_commit:
        commits = [struct.unpack("<Q", payload)[0] for kind, payload, _ in frames if kind == 2]
        start = commits[-1] if commits else 0
        frames = [frame for frame in frames if frame[2] >= start]
    status = {}
    for kind, payload, _ in frames:
        frame_statuses(kind, payload, status)
    return file_id, status


def read_file(path):
    """(journal_id, status array) of the HDF5 file read whole, or None when it is torn."""
    try:
        with h5py.File(path, "r") as f:
            for group in ("params", "results", "tasks"):
                for name in f[group]:
                    f[group][name][...]
            f["nodes"][...]
            return int(f.attrs.get("journal_id", 0)), f["tasks/status"][:]
    except Exception as e:  # noqa: BLE001 -- any failure to read counts as torn
        return None


def settled(results):
    """Task ids done for good in the file + journal, as a resume would see them."""
    if not os.path.exists(results):
        return set(), False  # killed before the file was created
    journal = read_journal(results + ".journal")
    in_file = read_file(results)
    if journal is not None and (in_file is None or in_file[0] == journal[0]):
        done = {t for t, st in journal[1].items() if st == 1}
        if in_file is not None:
            done |= set(np.flatnonzero(in_file[1] == 1).tolist())
        return done, in_file is None
    assert in_file is not None, "the file is torn and has no journal of its own"
    return set(np.flatnonzero(in_file[1] == 1).tolist()), False
