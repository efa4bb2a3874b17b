"""The write-ahead journal beside a results file, ``<file>.journal`` (byte format in
docs/hdf5-layout.md), as the C++ reader reads it (src/store/results_overlay.cpp): results are
appended as they arrive (a Records frame and a Commit repeating the last offset), and every
flush appends a Records frame, writes the rows to the HDF5 file, then appends a Commit naming
the offset the file holds, so the records after the offset the last Commit names may not be in
the file yet."""
from __future__ import annotations

import json
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

_JOURNAL_MAGIC = b"MPSWJRN1"
_JOURNAL_VERSIONS = (1, 2)  # 2: records in Rows frames; 1: in Records frames
_FRAME_MAGIC = 0x4A57534D
_FRAME_HEADER = struct.Struct("<IBII")  # magic, kind (1 Records, 2 Commit, 3 Rows), length, crc32
_RECORDS, _COMMIT, _ROWS = 1, 2, 3
_RECORD_FIXED = struct.Struct("<QBiii")  # id, status, attempts, worker, device
_RECORD_TIMES = struct.Struct("<ddi")    # start, wall_s, exit_code
# Rows: per record u8 flags, then what they say follows (docs/hdf5-layout.md).
_NEW_ID, _NEW_FIELDS, _NEW_NODE, _HAS_ERROR, _HAS_RESULTS, _SAME_FIELDS = 1, 2, 4, 8, 16, 32
_U64 = struct.Struct("<Q")
_ROW_FIELDS = struct.Struct("<Biiii")  # status, attempts, worker, device, exit_code
_ROW_TIMES = struct.Struct("<dd")      # start, wall_s
_U32 = struct.Struct("<I")
_U8 = struct.Struct("<B")
_RESULT_VALUE = {0: struct.Struct("<d"), 1: struct.Struct("<q")}


class UnreadableResults(ValueError):
    """A results file (or its journal) that cannot be read; the message says what is wrong and
    what to do, as `mpisweep status` says it."""


def journal_path(path: str) -> str:
    return path + ".journal"


class _Malformed(ValueError):
    pass


class _Payload:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def get(self, fmt: struct.Struct):
        if len(self.data) - self.at < fmt.size:
            raise _Malformed("ends inside a field")
        values = fmt.unpack_from(self.data, self.at)
        self.at += fmt.size
        return values

    def text(self) -> str:
        (n,) = self.get(_U32)
        if len(self.data) - self.at < n:
            raise _Malformed("ends inside a string")
        s = bytes(self.data[self.at:self.at + n]).decode("utf-8", errors="replace")
        self.at += n
        return s

    def value(self, kind=None):
        if kind is None:
            (kind,) = self.get(_U8)
        if kind in _RESULT_VALUE:
            return self.get(_RESULT_VALUE[kind])[0]
        if kind == 2:
            return self.text()
        if kind == 3:
            (k,) = self.get(_U32)
            if len(self.data) - self.at < 8 * k:
                raise _Malformed("ends inside an array")
            array = np.frombuffer(self.data, dtype="<f8", count=k, offset=self.at).astype(float)
            self.at += 8 * k
            return array
        if kind == 4:
            return bool(self.get(_U8)[0])
        raise _Malformed(f"result type {kind}")


def decode_rows(payload: bytes):
    """The records of one Rows frame, as decode_records gives them: each record's flags say
    which fields follow, the others are the previous record's."""
    b = _Payload(payload)
    out = []
    task = fields = node = None
    names, types = [], []  # of the last record with results
    for i in range(b.get(_U32)[0]):
        (flags,) = b.get(_U8)
        if i == 0 and flags & 7 != 7:
            raise _Malformed("its first record refers to a previous one")
        task = b.get(_U64)[0] if flags & _NEW_ID else task + 1
        if flags & _NEW_FIELDS:
            fields = b.get(_ROW_FIELDS)
            if fields[0] not in (1, 2):
                raise _Malformed(f"record status {fields[0]}")
        if flags & _NEW_NODE:
            node = b.text()
        start, wall_s = b.get(_ROW_TIMES)
        error = b.text() if flags & _HAS_ERROR else ""
        if flags & _HAS_RESULTS and flags & _SAME_FIELDS:
            if not names:
                raise _Malformed("results refer to none before")
            results = [(name, b.value(kind)) for name, kind in zip(names, types)]
        elif flags & _HAS_RESULTS:
            names, types, results = [], [], []
            for _ in range(b.get(_U32)[0]):
                names.append(b.text())
                types.append(b.get(_U8)[0])
                results.append((names[-1], b.value(types[-1])))
        else:
            results = []
        status, attempts, worker, device, exit_code = fields
        out.append((task, status, attempts, worker, device, node, start, wall_s, exit_code,
                    error, results))
    if b.at != len(b.data):
        raise _Malformed("bytes after its records")
    return out


def decode_records(payload: bytes):
    """The records of one Records frame (version 1): (id, status, attempts, worker, device,
    node, start, wall_s, exit_code, error, [(name, value)]), a value being float, int, str,
    bool or a float64 numpy array."""
    b = _Payload(payload)
    out = []
    for _ in range(b.get(_U32)[0]):
        task, status, attempts, worker, device = b.get(_RECORD_FIXED)
        if status not in (1, 2):
            raise _Malformed(f"record status {status}")
        node = b.text()
        start, wall_s, exit_code = b.get(_RECORD_TIMES)
        error = b.text()
        results = [(b.text(), b.value()) for _ in range(b.get(_U32)[0])]
        out.append((task, status, attempts, worker, device, node, start, wall_s, exit_code,
                    error, results))
    if b.at != len(b.data):
        raise _Malformed("bytes after its records")
    return out


@dataclass
class Journal:
    path: str
    file_id: int
    since_creation: bool  # holds every record since the file was created
    spec: Optional[dict]  # the grid, as the file's root attribute spec
    header: dict          # created, mpi_size, command, n_tasks
    data: bytes
    frames: List[tuple]   # (kind, offset, end) of every valid frame, in order
    committed_end: int    # the offset the last Commit names (0 without one): the file holds the records before it

    def records(self, start: int = 0):
        """The records of every Records frame at offset >= start, in order; a frame whose
        CRC matched but that does not decode ends them (with a warning)."""
        out = []
        for kind, offset, end in self.frames:
            if kind not in (_RECORDS, _ROWS) or offset < start:
                continue
            decode = decode_rows if kind == _ROWS else decode_records
            try:
                out += decode(memoryview(self.data)[offset + _FRAME_HEADER.size:end])
            except _Malformed as e:
                warnings.warn(f"{self.path}: a records frame at offset {offset} is malformed "
                              f"({e}); the journal is read up to it", stacklevel=4)
                break
        return out


def _header(data: bytes, jpath: str, results_path: str):
    def damaged(why):
        return UnreadableResults(
            f"the journal '{jpath}' beside '{results_path}' is damaged ({why}), so results it "
            f"holds and the file may not cannot be read: move it aside to read the file alone "
            f"(its tasks then run again on 'mpisweep run --resume')")
    if len(data) < 16 or data[:8] != _JOURNAL_MAGIC:
        raise damaged("not an mpisweep journal (no MPSWJRN1 header)")
    length, crc = struct.unpack_from("<II", data, 8)
    payload = data[16:16 + length]
    if len(payload) < length:
        raise damaged("journal header is cut short")
    if zlib.crc32(payload) != crc:
        raise damaged("journal header has a bad checksum")
    b = _Payload(payload)
    try:
        (version,) = b.get(_U32)
        if version not in _JOURNAL_VERSIONS:
            raise damaged(f"journal version {version}, this reader reads versions 1 and 2")
        n_tasks, file_id = b.get(struct.Struct("<QQ"))
        (since,) = b.get(_U8)
        (mpi_size,) = b.get(struct.Struct("<i"))
        created, spec, command = b.text(), b.text(), b.text()
    except _Malformed as e:
        raise damaged(f"journal header {e}")
    try:
        spec_json = json.loads(spec) if spec else None
    except ValueError:
        spec_json = None
    return file_id, bool(since), spec_json, {"created": created, "mpi_size": mpi_size,
                                             "command": command, "n_tasks": n_tasks}, 16 + length


def read_journal(results_path: str) -> Optional[Journal]:
    """The valid frames of the journal beside `results_path`, or None when there is none.
    Raises UnreadableResults when its header is damaged (it may hold results the file does
    not). A frame cut short or with a bad magic or CRC ends the journal (a torn write)."""
    jpath = journal_path(results_path)
    try:
        with open(jpath, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UnreadableResults(f"cannot read the journal '{jpath}': {e.strerror}")
    file_id, since, spec, header, at = _header(data, jpath, results_path)
    frames, committed_end = [], 0
    view = memoryview(data)
    while len(data) - at >= _FRAME_HEADER.size:
        magic, kind, length, crc = _FRAME_HEADER.unpack_from(data, at)
        end = at + _FRAME_HEADER.size + length
        if magic != _FRAME_MAGIC or kind not in (_RECORDS, _COMMIT, _ROWS) or end > len(data):
            break
        payload = view[at + _FRAME_HEADER.size:end]
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            break
        frames.append((kind, at, end))
        if kind == _COMMIT:
            if length != 8:
                break  # not a Commit this reader knows: read the journal up to it
            (committed_end,) = struct.unpack_from("<Q", payload)
        at = end
    return Journal(jpath, file_id, since, spec, header, data, frames, committed_end)
