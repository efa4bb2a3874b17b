#include "store/journal_codec.hpp"

#include <algorithm>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <limits>

#include "store/same_text.hpp"

namespace mpisweep::store {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the journal codec assumes a little-endian host");

// Appends fixed-size values as their little-endian bytes (the host order, checked above).
template <class T>
void put(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.append(bytes, sizeof(T));
}

void put_string(std::string& out, std::string_view text) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
    out.append(text.data(), text.size());
}

// Reads from a payload; running past its end throws (a payload whose crc matched but that
// does not parse is a bug or a foreign file, not a torn write).
class Reader {
public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    template <class T>
    T get() {
        need(sizeof(T));
        T value;
        std::memcpy(&value, bytes_.data() + at_, sizeof(T));
        at_ += sizeof(T);
        return value;
    }
    std::string get_string() {
        const auto size = get<std::uint32_t>();
        need(size);
        std::string text(bytes_.substr(at_, size));
        at_ += size;
        return text;
    }
    bool done() const { return at_ == bytes_.size(); }

private:
    void need(std::size_t size) const {
        if (bytes_.size() - at_ < size)
            throw JournalError("journal frame is malformed (ends inside a field)");
    }
    std::string_view bytes_;
    std::size_t at_ = 0;
};

std::uint32_t frame_crc(std::uint8_t kind_byte, std::string_view payload) {
    return crc32_of(payload.data(), payload.size(), crc32_of(&kind_byte, 1));
}

// Starts a frame of `kind` in `out`; finish_frame fills in its length and crc.
std::size_t start_frame(FrameKind kind, std::string& out) {
    const std::size_t start = out.size();
    put<std::uint32_t>(out, kFrameMagic);
    put<std::uint8_t>(out, static_cast<std::uint8_t>(kind));
    put<std::uint32_t>(out, 0);  // length
    put<std::uint32_t>(out, 0);  // crc
    return start;
}

void finish_frame(std::size_t start, std::string& out) {
    const std::size_t payload_start = start + kFrameHeaderBytes;
    const std::size_t length = out.size() - payload_start;
    if (length > std::numeric_limits<std::uint32_t>::max())
        throw JournalError("journal frame of " + std::to_string(length) + " bytes is too large");
    const auto kind_byte = static_cast<std::uint8_t>(out[start + 4]);
    const auto length32 = static_cast<std::uint32_t>(length);
    const std::uint32_t crc = frame_crc(kind_byte, std::string_view(out).substr(payload_start));
    std::memcpy(&out[start + 5], &length32, 4);
    std::memcpy(&out[start + 9], &crc, 4);
}

ResultValue get_value(Reader& in, std::uint8_t type) {
    switch (type) {
        case 0:
            return in.get<double>();
        case 1:
            return in.get<std::int64_t>();
        case 2:
            return in.get_string();
        case 3: {
            const auto size = in.get<std::uint32_t>();
            std::vector<double> array;
            array.reserve(size);
            for (std::uint32_t i = 0; i < size; ++i) array.push_back(in.get<double>());
            return array;
        }
        case 4:
            return in.get<std::uint8_t>() != 0;
        default:
            throw JournalError("journal frame is malformed (unknown result type)");
    }
}

}  // namespace

bool JournalScan::settled_in_file() const {
    const std::size_t first_after = last_commit ? *last_commit + 1 : 0;
    for (std::size_t i = first_after; i < frames.size(); ++i)
        if (frames[i].kind == FrameKind::Records) return false;
    return true;
}

std::uint64_t JournalScan::committed_offset() const {
    return last_commit ? decode_commit(frames[*last_commit].payload) : 0;
}

namespace {

// CRC-32 (IEEE 802.3, zlib's crc32), slicing by 8: about as fast as zlib's, without adding
// zlib to what the installed package must find for its users.
struct CrcTables {
    std::uint32_t t[8][256];
    CrcTables() {
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (std::uint32_t i = 0; i < 256; ++i)
            for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
};

const CrcTables& crc_tables() {
    static const CrcTables tables;
    return tables;
}

#if defined(__x86_64__) && defined(__GNUC__)
// CRC-32 of 16-byte blocks (len >= 64, a multiple of 16) by carry-less multiplication:
// folding as in Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ"
// (the bit-reflected constants of zlib's crc32_simd.c). `crc` is the register (not
// inverted) before and after. About 0.1 instructions a byte, against ~3 for the tables.
#define MPISWEEP_CLMUL __attribute__((target("pclmul,sse4.1")))

MPISWEEP_CLMUL inline __m128i load(const unsigned char* at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
}

// x times the folding constants in k, plus next.
MPISWEEP_CLMUL inline __m128i fold(__m128i x, __m128i k, __m128i next) {
    const __m128i low = _mm_clmulepi64_si128(x, k, 0x00);
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x11), next), low);
}

MPISWEEP_CLMUL std::uint32_t crc32_folded(const unsigned char* buf, std::size_t len, std::uint32_t crc) {
    alignas(16) static const std::uint64_t k1k2[] = {0x0154442bd4, 0x01c6e41596};
    alignas(16) static const std::uint64_t k3k4[] = {0x01751997d0, 0x00ccaa009e};
    alignas(16) static const std::uint64_t k5k0[] = {0x0163cd6124, 0x0000000000};
    alignas(16) static const std::uint64_t poly[] = {0x01db710641, 0x01f7011641};
    __m128i x1 = load(buf), x2 = load(buf + 16), x3 = load(buf + 32), x4 = load(buf + 48);
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128(static_cast<int>(crc)));
    __m128i x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k1k2));
    buf += 64;
    len -= 64;
    while (len >= 64) {  // four blocks folded in parallel
        const __m128i x5 = _mm_clmulepi64_si128(x1, x0, 0x00), x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
        const __m128i x7 = _mm_clmulepi64_si128(x3, x0, 0x00), x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
        x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
        x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), load(buf));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), load(buf + 16));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), load(buf + 32));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), load(buf + 48));
        buf += 64;
        len -= 64;
    }
    x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k3k4));  // fold the four into one
    x1 = fold(x1, x0, x2);
    x1 = fold(x1, x0, x3);
    x1 = fold(x1, x0, x4);
    while (len >= 16) {
        x1 = fold(x1, x0, load(buf));
        buf += 16;
        len -= 16;
    }
    // 128 bits to 64, then Barrett reduction to 32.
    x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
    x3 = _mm_setr_epi32(~0, 0, ~0, 0);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
    x0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k5k0));
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, x3), x0, 0x00), x2);
    x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(poly));
    x2 = _mm_clmulepi64_si128(_mm_and_si128(x1, x3), x0, 0x10);
    x2 = _mm_clmulepi64_si128(_mm_and_si128(x2, x3), x0, 0x00);
    return static_cast<std::uint32_t>(_mm_extract_epi32(_mm_xor_si128(x1, x2), 1));
}

#undef MPISWEEP_CLMUL

bool has_clmul() {
    static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    return has;
}
#endif

}  // namespace

std::uint32_t crc32_of(const void* data, std::size_t size, std::uint32_t crc) {
    const auto& t = crc_tables().t;
    auto p = static_cast<const unsigned char*>(data);
    std::uint32_t c = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
    if (size >= 64 && has_clmul()) {
        const std::size_t blocks = size & ~std::size_t{15};
        c = crc32_folded(p, blocks, c);
        p += blocks;
        size -= blocks;
    }
#endif
    while (size >= 8) {
        std::uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
            t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    while (size-- > 0) c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

std::string encode_header(const JournalHeader& header) {
    std::string payload;
    put<std::uint32_t>(payload, kJournalVersion);
    put<std::uint64_t>(payload, header.n_tasks);
    put<std::uint64_t>(payload, header.file_id);
    put<std::uint8_t>(payload, header.since_creation ? 1 : 0);
    put<std::int32_t>(payload, header.mpi_size);
    put_string(payload, header.created);
    put_string(payload, header.spec);
    put_string(payload, header.command);
    std::string out(kJournalMagic);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
    put<std::uint32_t>(out, crc32_of(payload.data(), payload.size()));
    return out + payload;
}

namespace {

template <class T>
char* store_bytes(char* at, T value) {
    std::memcpy(at, &value, sizeof(T));
    return at + sizeof(T);
}

// Hosts, field names and errors are mostly short: copied inline, memcpy for the rest.
[[gnu::always_inline]] inline char* store_string(char* at, const std::string& text) {
    const std::size_t n = text.size();
    at = store_bytes<std::uint32_t>(at, static_cast<std::uint32_t>(n));
    const char* from = text.data();
    if (n >= 8 && n <= 16) {  // the first 8 bytes and the last 8 (they may overlap)
        std::uint64_t head, tail;
        std::memcpy(&head, from, 8);
        std::memcpy(&tail, from + n - 8, 8);
        std::memcpy(at, &head, 8);
        std::memcpy(at + n - 8, &tail, 8);
    } else if (n >= 4 && n < 8) {
        std::uint32_t head, tail;
        std::memcpy(&head, from, 4);
        std::memcpy(&tail, from + n - 4, 4);
        std::memcpy(at, &head, 4);
        std::memcpy(at + n - 4, &tail, 4);
    } else if (n > 0 && n < 4) {  // bytes 0, n/2 and n-1 cover 1 to 3 bytes
        at[0] = from[0];
        at[n / 2] = from[n / 2];
        at[n - 1] = from[n - 1];
    } else if (n > 0) {
        std::memcpy(at, from, n);
    }
    return at + n;
}

// A result's value bytes (its type byte not included).
std::size_t encoded_size(const ResultView& value) {
    switch (value.kind) {
        case ResultView::Kind::Float:
        case ResultView::Kind::Int:
            return 8;
        case ResultView::Kind::String:
            return 4 + value.text->size();
        case ResultView::Kind::Bool:
            return 1;
        default:
            return 4 + 8 * value.count;
    }
}

char* store_value(char* at, const ResultView& value) {
    switch (value.kind) {
        case ResultView::Kind::Float:
            return store_bytes<double>(at, value.number);
        case ResultView::Kind::Int:
            return store_bytes<std::int64_t>(at, value.integer);
        case ResultView::Kind::String:
            return store_string(at, *value.text);
        case ResultView::Kind::Bool:
            return store_bytes<std::uint8_t>(at, value.integer != 0 ? 1 : 0);
        default: {
            at = store_bytes<std::uint32_t>(at, static_cast<std::uint32_t>(value.count));
            if (value.count > 0) std::memcpy(at, value.values, value.count * sizeof(double));
            return at + value.count * sizeof(double);
        }
    }
}

const std::string kNoText;

// The flags of a Rows record: which fields follow (the rest are the previous record's).
enum RowFlag : std::uint8_t {
    kNewId = 1,        // u64 id (else the previous one + 1)
    kNewFields = 2,    // status, attempts, worker, device, exit code
    kNewNode = 4,      // str node
    kHasError = 8,     // str error (else "")
    kHasResults = 16,  // results (else none)
    kSameFields = 32,  // with kHasResults: the names and types of the last record's results
                       // that had any (in this frame), only the values follow
};
// A record's bytes at most before its error and results: flags, id, fields, node length,
// start, wall, error length, n_results.
constexpr std::size_t kRowMostFixedBytes = 1 + 8 + (1 + 4 * 4) + 4 + 8 + 8 + 4 + 4;

}  // namespace

void RecordsFrame::reserve_more(std::size_t bytes) {
    data_.resize(std::max(data_.size() * 2, std::max<std::size_t>(size_ + bytes, 4096)));
}

void RecordsFrame::clear() {
    size_ = 0;
    count_ = 0;
    last_names_.clear();  // each frame decodes alone
    last_types_.clear();
    char* at = grow(kFrameHeaderBytes + 4);
    at = store_bytes<std::uint32_t>(at, kFrameMagic);
    at = store_bytes<std::uint8_t>(at, kRowsKindByte);
    std::memset(at, 0, 12);  // length, crc, count: filled in by seal()
}

void RecordsFrame::add(const RowView& r) {
    // The fixed fields and strings first, then room for each result as it comes.
    const std::string& node = r.node != nullptr ? *r.node : kNoText;
    const std::string& error = r.error != nullptr ? *r.error : kNoText;
    const auto status = static_cast<std::uint8_t>(r.status);
    const bool first = count_ == 0;
    std::uint8_t flags = 0;
    if (first || r.id.value() != last_id_ + 1) flags |= kNewId;
    if (first || status != last_status_ || r.attempts != last_attempts_ || r.worker != last_worker_ ||
        r.device != last_device_ || r.exit_code != last_exit_code_)
        flags |= kNewFields;
    if (first || !same_text(node, last_node_)) flags |= kNewNode;
    if (!error.empty()) flags |= kHasError;
    if (r.n_fields > 0) flags |= kHasResults;
    const bool same_fields = r.n_fields > 0 && same_fields_as_last(r.fields, r.n_fields);
    if (same_fields) flags |= kSameFields;

    char* at = grow(kRowMostFixedBytes + node.size() + error.size());
    char* const begin = at;
    at = store_bytes<std::uint8_t>(at, flags);
    if (flags & kNewId) at = store_bytes<std::uint64_t>(at, r.id.value());
    if (flags & kNewFields) {
        at = store_bytes<std::uint8_t>(at, status);
        at = store_bytes<std::int32_t>(at, r.attempts);
        at = store_bytes<std::int32_t>(at, r.worker);
        at = store_bytes<std::int32_t>(at, r.device);
        at = store_bytes<std::int32_t>(at, r.exit_code);
        last_status_ = status;
        last_attempts_ = r.attempts;
        last_worker_ = r.worker;
        last_device_ = r.device;
        last_exit_code_ = r.exit_code;
    }
    if (flags & kNewNode) {
        at = store_string(at, node);
        last_node_ = node;
    }
    at = store_bytes<double>(at, r.start);
    at = store_bytes<double>(at, r.wall_s);
    if (flags & kHasError) at = store_string(at, error);
    if ((flags & kHasResults) && !same_fields)
        at = store_bytes<std::uint32_t>(at, static_cast<std::uint32_t>(r.n_fields));
    size_ -= kRowMostFixedBytes + node.size() + error.size() - static_cast<std::size_t>(at - begin);
    last_id_ = r.id.value();
    if (same_fields) {
        for (std::size_t k = 0; k < r.n_fields; ++k)
            store_value(grow(encoded_size(r.fields[k].value)), r.fields[k].value);
    } else if (r.n_fields > 0) {
        last_names_.resize(r.n_fields);
        last_types_.resize(r.n_fields);
        for (std::size_t k = 0; k < r.n_fields; ++k) {
            const FieldView& field = r.fields[k];
            const auto type = static_cast<std::uint8_t>(field.value.kind);
            at = grow(4 + field.name->size() + 1 + encoded_size(field.value));
            at = store_string(at, *field.name);
            at = store_bytes<std::uint8_t>(at, type);
            store_value(at, field.value);
            last_names_[k] = *field.name;
            last_types_[k] = type;
        }
    }
    ++count_;
}

bool RecordsFrame::same_fields_as_last(const FieldView* fields, std::size_t n) const {
    if (n != last_names_.size()) return false;
    for (std::size_t k = 0; k < n; ++k)
        if (static_cast<std::uint8_t>(fields[k].value.kind) != last_types_[k] ||
            !same_text(*fields[k].name, last_names_[k]))
            return false;
    return true;
}

void RecordsFrame::add(const TaskRecord& record) {
    std::vector<FieldView> fields;
    view_fields(record.results, fields);
    add(row_view(record, fields));
}

std::string_view RecordsFrame::seal() {
    const std::size_t length = size_ - kFrameHeaderBytes;
    if (length > std::numeric_limits<std::uint32_t>::max())
        throw JournalError("journal frame of " + std::to_string(length) + " bytes is too large");
    char* data = data_.data();
    store_bytes<std::uint32_t>(data + kFrameHeaderBytes, count_);
    const std::string_view payload(data + kFrameHeaderBytes, length);
    store_bytes<std::uint32_t>(data + 5, static_cast<std::uint32_t>(length));
    store_bytes<std::uint32_t>(data + 9, frame_crc(kRowsKindByte, payload));
    return std::string_view(data, size_);
}

void append_records_frame(const std::vector<const TaskRecord*>& records, std::string& out) {
    RecordsFrame frame;
    for (const TaskRecord* r : records) frame.add(*r);
    out.append(frame.seal());
}

void append_commit_frame(std::uint64_t offset, std::string& out) {
    const std::size_t start = start_frame(FrameKind::Commit, out);
    put<std::uint64_t>(out, offset);
    finish_frame(start, out);
}

JournalScan scan_journal(std::string_view bytes) {
    JournalScan scan;
    if (bytes.size() < kJournalMagic.size() + 8 || bytes.substr(0, kJournalMagic.size()) != kJournalMagic)
        throw JournalError("not an mpisweep journal (no MPSWJRN1 header)");
    Reader fixed(bytes.substr(kJournalMagic.size(), 8));
    const auto length = fixed.get<std::uint32_t>();
    const auto crc = fixed.get<std::uint32_t>();
    const std::size_t payload_at = kJournalMagic.size() + 8;
    if (bytes.size() - payload_at < length) throw JournalError("journal header is cut short");
    const std::string_view payload = bytes.substr(payload_at, length);
    if (crc32_of(payload.data(), payload.size()) != crc)
        throw JournalError("journal header has a bad checksum");
    Reader in(payload);
    const auto version = in.get<std::uint32_t>();
    if (version < kOldestJournalVersion || version > kJournalVersion)
        throw JournalError("journal version " + std::to_string(version) + ", this mpisweep reads versions " +
                           std::to_string(kOldestJournalVersion) + " to " + std::to_string(kJournalVersion));
    scan.header.version = version;
    scan.header.n_tasks = in.get<std::uint64_t>();
    scan.header.file_id = in.get<std::uint64_t>();
    scan.header.since_creation = in.get<std::uint8_t>() != 0;
    scan.header.mpi_size = in.get<std::int32_t>();
    scan.header.created = in.get_string();
    scan.header.spec = in.get_string();
    scan.header.command = in.get_string();

    std::size_t at = payload_at + length;
    scan.header_end = at;
    while (bytes.size() - at >= kFrameHeaderBytes) {
        Reader head(bytes.substr(at, kFrameHeaderBytes));
        const auto magic = head.get<std::uint32_t>();
        const auto kind_byte = head.get<std::uint8_t>();
        const auto frame_length = head.get<std::uint32_t>();
        const auto frame_crc_value = head.get<std::uint32_t>();
        const bool records =
            kind_byte == static_cast<std::uint8_t>(FrameKind::Records) || kind_byte == kRowsKindByte;
        if (magic != kFrameMagic || (!records && kind_byte != static_cast<std::uint8_t>(FrameKind::Commit)))
            break;
        if (bytes.size() - at - kFrameHeaderBytes < frame_length) break;
        const std::string_view frame_payload = bytes.substr(at + kFrameHeaderBytes, frame_length);
        if (frame_crc(kind_byte, frame_payload) != frame_crc_value) break;
        const std::uint64_t end = at + kFrameHeaderBytes + frame_length;
        const FrameKind kind = records ? FrameKind::Records : FrameKind::Commit;
        if (kind == FrameKind::Commit) scan.last_commit = scan.frames.size();
        scan.frames.push_back(FrameInfo{kind, kind_byte, at, end, frame_payload});
        at = end;
    }
    scan.valid_end = at;
    scan.torn_tail = at < bytes.size();
    return scan;
}

namespace {

TaskStatus checked_status(std::uint8_t status) {
    if (status != 1 && status != 2) throw JournalError("journal record has an invalid status");
    return static_cast<TaskStatus>(status);
}

// Results with their names and types; `names`, `types`: a copy of them for the next record.
void get_results(Reader& in, TaskRecord& r, std::vector<std::string>* names = nullptr,
                 std::vector<std::uint8_t>* types = nullptr) {
    const auto n_results = in.get<std::uint32_t>();
    if (names) {
        names->clear();
        types->clear();
    }
    for (std::uint32_t k = 0; k < n_results; ++k) {
        std::string name = in.get_string();
        const auto type = in.get<std::uint8_t>();
        if (names) {
            names->push_back(name);
            types->push_back(type);
        }
        r.results.emplace(std::move(name), get_value(in, type));
    }
}

// A Rows payload: each record's flags say which fields follow; the others are the previous
// record's (the first record of a frame has them all).
void decode_rows(std::string_view payload, std::vector<TaskRecord>& out) {
    Reader in(payload);
    const auto count = in.get<std::uint32_t>();
    out.reserve(out.size() + count);
    std::vector<std::string> names;  // of the last record with results
    std::vector<std::uint8_t> types;
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto flags = in.get<std::uint8_t>();
        if (i == 0 && (flags & (kNewId | kNewFields | kNewNode)) != (kNewId | kNewFields | kNewNode))
            throw JournalError("journal frame is malformed (its first record refers to a previous one)");
        // What a flag leaves out is the previous record's: this frame's last one decoded.
        TaskRecord r;
        r.id = flags & kNewId ? TaskId(in.get<std::uint64_t>()) : TaskId(out.back().id.value() + 1);
        if (flags & kNewFields) {
            r.status = checked_status(in.get<std::uint8_t>());
            r.attempts = in.get<std::int32_t>();
            r.worker = in.get<std::int32_t>();
            r.device = in.get<std::int32_t>();
            r.exit_code = in.get<std::int32_t>();
        } else {
            r.status = out.back().status;
            r.attempts = out.back().attempts;
            r.worker = out.back().worker;
            r.device = out.back().device;
            r.exit_code = out.back().exit_code;
        }
        r.node = flags & kNewNode ? in.get_string() : out.back().node;
        r.start = in.get<double>();
        r.wall_s = in.get<double>();
        if (flags & kHasError) r.error = in.get_string();
        if ((flags & kHasResults) && (flags & kSameFields)) {
            if (names.empty())
                throw JournalError("journal frame is malformed (results refer to none before)");
            for (std::size_t k = 0; k < names.size(); ++k)
                r.results.emplace(names[k], get_value(in, types[k]));
        } else if (flags & kHasResults) {
            get_results(in, r, &names, &types);
        }
        out.push_back(std::move(r));
    }
    if (!in.done()) throw JournalError("journal frame is malformed (bytes after its records)");
}

// A Records payload of a version 1 journal: every field of every record.
void decode_v1_records(std::string_view payload, std::vector<TaskRecord>& out) {
    Reader in(payload);
    const auto count = in.get<std::uint32_t>();
    out.reserve(out.size() + count);
    for (std::uint32_t i = 0; i < count; ++i) {
        TaskRecord r;
        r.id = TaskId(in.get<std::uint64_t>());
        r.status = checked_status(in.get<std::uint8_t>());
        r.attempts = in.get<std::int32_t>();
        r.worker = in.get<std::int32_t>();
        r.device = in.get<std::int32_t>();
        r.node = in.get_string();
        r.start = in.get<double>();
        r.wall_s = in.get<double>();
        r.exit_code = in.get<std::int32_t>();
        r.error = in.get_string();
        get_results(in, r);
        out.push_back(std::move(r));
    }
    if (!in.done()) throw JournalError("journal frame is malformed (bytes after its records)");
}

}  // namespace

void decode_records(const FrameInfo& frame, std::vector<TaskRecord>& out) {
    if (frame.kind != FrameKind::Records) throw JournalError("journal frame holds no records");
    if (frame.kind_byte == kRowsKindByte) return decode_rows(frame.payload, out);
    decode_v1_records(frame.payload, out);
}

std::uint64_t decode_commit(std::string_view payload) {
    Reader in(payload);
    const auto offset = in.get<std::uint64_t>();
    if (!in.done()) throw JournalError("journal commit frame is malformed");
    return offset;
}

}  // namespace mpisweep::store
